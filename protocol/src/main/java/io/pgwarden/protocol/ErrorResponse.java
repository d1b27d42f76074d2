package io.pgwarden.protocol;

import io.netty.buffer.ByteBuf;

/**
 * The fields of an ErrorResponse or NoticeResponse that the proxy produces or needs to look at.
 *
 * @param detail may be null (omitted on the wire)
 * @param hint may be null (omitted on the wire)
 */
public record ErrorResponse(String severity, String sqlstate, String message, String detail, String hint) {

    public static final String SEVERITY_ERROR = "ERROR";
    public static final String SEVERITY_FATAL = "FATAL";

    private static final byte SEVERITY_LOCALIZED = 'S';
    private static final byte SEVERITY_NON_LOCALIZED = 'V';
    private static final byte CODE = 'C';
    private static final byte MESSAGE = 'M';
    private static final byte DETAIL = 'D';
    private static final byte HINT = 'H';

    public static ErrorResponse error(String sqlstate, String message) {
        return new ErrorResponse(SEVERITY_ERROR, sqlstate, message, null, null);
    }

    public static ErrorResponse fatal(String sqlstate, String message) {
        return new ErrorResponse(SEVERITY_FATAL, sqlstate, message, null, null);
    }

    public ErrorResponse withDetail(String detail) {
        return new ErrorResponse(severity, sqlstate, message, detail, hint);
    }

    public ErrorResponse withHint(String hint) {
        return new ErrorResponse(severity, sqlstate, message, detail, hint);
    }

    public void encode(ByteBuf out) {
        encode(out, Tags.Backend.ERROR_RESPONSE);
    }

    public void encodeAsNotice(ByteBuf out) {
        encode(out, Tags.Backend.NOTICE_RESPONSE);
    }

    private void encode(ByteBuf out, byte tag) {
        int lengthIndex = MessageWriter.begin(out, tag);
        // V is the non-localized severity (since 9.6); we never localize, so both carry the same text.
        field(out, SEVERITY_LOCALIZED, severity);
        field(out, SEVERITY_NON_LOCALIZED, severity);
        field(out, CODE, sqlstate);
        field(out, MESSAGE, message);
        field(out, DETAIL, detail);
        field(out, HINT, hint);
        out.writeByte(0);
        MessageWriter.end(out, lengthIndex);
    }

    private static void field(ByteBuf out, byte type, String value) {
        if (value != null) {
            out.writeByte(type);
            MessageWriter.cString(out, value);
        }
    }

    /**
     * Decodes a whole ErrorResponse or NoticeResponse (header included). Unknown fields are ignored and missing ones
     * are null. Does not release the message.
     */
    public static ErrorResponse decode(ByteBuf message) {
        MessageReader reader = MessageReader.typed(message, "ErrorResponse/NoticeResponse",
                Tags.Backend.ERROR_RESPONSE, Tags.Backend.NOTICE_RESPONSE);
        String localizedSeverity = null;
        String severity = null;
        String sqlstate = null;
        String text = null;
        String detail = null;
        String hint = null;
        for (byte type = reader.readByte(); type != 0; type = reader.readByte()) {
            String value = reader.readCString();
            switch (type) {
                case SEVERITY_LOCALIZED -> localizedSeverity = value;
                case SEVERITY_NON_LOCALIZED -> severity = value;
                case CODE -> sqlstate = value;
                case MESSAGE -> text = value;
                case DETAIL -> detail = value;
                case HINT -> hint = value;
                default -> {
                    // Other fields (position, file, line, routine, schema, ...) are irrelevant to the proxy.
                }
            }
        }
        reader.expectEnd();
        // The non-localized severity is the one code can compare against; servers before 9.6 only send S.
        return new ErrorResponse(severity != null ? severity : localizedSeverity, sqlstate, text, detail, hint);
    }
}
