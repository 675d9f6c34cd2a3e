package org.llamajava;

import static org.llamajava.bindings.global.llama.*;

import java.util.EnumSet;
import java.util.Set;

/** Attributes of a vocabulary token, as llama.cpp reports them. */
public enum TokenAttribute {
    UNKNOWN(LLAMA_TOKEN_ATTR_UNKNOWN),
    UNUSED(LLAMA_TOKEN_ATTR_UNUSED),
    NORMAL(LLAMA_TOKEN_ATTR_NORMAL),
    CONTROL(LLAMA_TOKEN_ATTR_CONTROL),
    USER_DEFINED(LLAMA_TOKEN_ATTR_USER_DEFINED),
    BYTE(LLAMA_TOKEN_ATTR_BYTE),
    NORMALIZED(LLAMA_TOKEN_ATTR_NORMALIZED),
    LSTRIP(LLAMA_TOKEN_ATTR_LSTRIP),
    RSTRIP(LLAMA_TOKEN_ATTR_RSTRIP),
    SINGLE_WORD(LLAMA_TOKEN_ATTR_SINGLE_WORD);

    private final int bit;

    TokenAttribute(int bit) {
        this.bit = bit;
    }

    static Set<TokenAttribute> fromBits(int bits) {
        EnumSet<TokenAttribute> set = EnumSet.noneOf(TokenAttribute.class);
        for (TokenAttribute a : values()) {
            if ((bits & a.bit) != 0) {
                set.add(a);
            }
        }
        return set;
    }
}
