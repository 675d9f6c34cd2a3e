/**
 * Implementation details shared by the API packages: native-state lifetimes, native strings,
 * UTF-8 and stop-string streaming, the state-file format. Not API: anything here
 * may change in any release. The jar's module name is {@code org.llamajava}; this package is
 * public only because Java packages cannot share package-private members.
 */
package org.llamajava.internal;
