package org.llamajava.spark;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;

/** A row's text: a string column as is, a binary column decoded as strict UTF-8. */
final class Texts {
    private Texts() {}

    static final DataType[] TYPES = {DataTypes.StringType, DataTypes.BinaryType};

    /** The text of column {@code i}; {@link IllegalArgumentException} for null or invalid UTF-8. */
    static String of(Row row, int i) {
        if (row.isNullAt(i)) {
            throw new IllegalArgumentException("the input is null");
        }
        Object v = row.get(i);
        if (v instanceof String s) {
            return s;
        }
        byte[] b = (byte[]) v;
        CharsetDecoder d = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(b);
        try {
            CharBuffer out = d.decode(in);
            return out.toString();
        } catch (MalformedInputException e) {
            throw new IllegalArgumentException("invalid UTF-8 at byte " + in.position() + " of " + b.length);
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("invalid UTF-8: " + e);
        }
    }
}
