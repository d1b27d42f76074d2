package io.pgwarden.protocol;

/** Message type bytes of the PostgreSQL v3 protocol, kept in one place so logs and decoders agree. */
public final class Tags {

    private Tags() {
    }

    /** Tags of messages sent by clients. */
    public static final class Frontend {
        public static final byte QUERY = 'Q';
        public static final byte PARSE = 'P';
        public static final byte BIND = 'B';
        public static final byte EXECUTE = 'E';
        public static final byte DESCRIBE = 'D';
        public static final byte CLOSE = 'C';
        public static final byte SYNC = 'S';
        public static final byte FLUSH = 'H';
        public static final byte TERMINATE = 'X';
        /** PasswordMessage, but also GSSResponse, SASLInitialResponse and SASLResponse: the meaning depends on what was asked. */
        public static final byte PASSWORD = 'p';
        public static final byte FUNCTION_CALL = 'F';
        public static final byte COPY_DATA = 'd';
        public static final byte COPY_DONE = 'c';
        public static final byte COPY_FAIL = 'f';

        private Frontend() {
        }
    }

    /** Tags of messages sent by the server. */
    public static final class Backend {
        public static final byte AUTHENTICATION = 'R';
        public static final byte PARAMETER_STATUS = 'S';
        public static final byte BACKEND_KEY_DATA = 'K';
        public static final byte READY_FOR_QUERY = 'Z';
        public static final byte ERROR_RESPONSE = 'E';
        public static final byte NOTICE_RESPONSE = 'N';
        public static final byte COMMAND_COMPLETE = 'C';
        public static final byte ROW_DESCRIPTION = 'T';
        public static final byte DATA_ROW = 'D';
        public static final byte EMPTY_QUERY_RESPONSE = 'I';
        public static final byte PARSE_COMPLETE = '1';
        public static final byte BIND_COMPLETE = '2';
        public static final byte CLOSE_COMPLETE = '3';
        public static final byte NO_DATA = 'n';
        public static final byte PORTAL_SUSPENDED = 's';
        public static final byte PARAMETER_DESCRIPTION = 't';
        public static final byte COPY_IN_RESPONSE = 'G';
        public static final byte COPY_OUT_RESPONSE = 'H';
        public static final byte COPY_BOTH_RESPONSE = 'W';
        public static final byte COPY_DATA = 'd';
        public static final byte COPY_DONE = 'c';
        public static final byte NOTIFICATION_RESPONSE = 'A';
        public static final byte NEGOTIATE_PROTOCOL_VERSION = 'v';
        public static final byte FUNCTION_CALL_RESPONSE = 'V';

        private Backend() {
        }
    }

    /** Human-readable name of a client message tag, for logs. */
    public static String describeFrontend(byte tag) {
        return switch (tag) {
            case Frontend.QUERY -> "Query";
            case Frontend.PARSE -> "Parse";
            case Frontend.BIND -> "Bind";
            case Frontend.EXECUTE -> "Execute";
            case Frontend.DESCRIBE -> "Describe";
            case Frontend.CLOSE -> "Close";
            case Frontend.SYNC -> "Sync";
            case Frontend.FLUSH -> "Flush";
            case Frontend.TERMINATE -> "Terminate";
            case Frontend.PASSWORD -> "PasswordMessage";
            case Frontend.FUNCTION_CALL -> "FunctionCall";
            case Frontend.COPY_DATA -> "CopyData";
            case Frontend.COPY_DONE -> "CopyDone";
            case Frontend.COPY_FAIL -> "CopyFail";
            default -> unknown(tag);
        };
    }

    /** Human-readable name of a server message tag, for logs. */
    public static String describeBackend(byte tag) {
        return switch (tag) {
            case Backend.AUTHENTICATION -> "Authentication";
            case Backend.PARAMETER_STATUS -> "ParameterStatus";
            case Backend.BACKEND_KEY_DATA -> "BackendKeyData";
            case Backend.READY_FOR_QUERY -> "ReadyForQuery";
            case Backend.ERROR_RESPONSE -> "ErrorResponse";
            case Backend.NOTICE_RESPONSE -> "NoticeResponse";
            case Backend.COMMAND_COMPLETE -> "CommandComplete";
            case Backend.ROW_DESCRIPTION -> "RowDescription";
            case Backend.DATA_ROW -> "DataRow";
            case Backend.EMPTY_QUERY_RESPONSE -> "EmptyQueryResponse";
            case Backend.PARSE_COMPLETE -> "ParseComplete";
            case Backend.BIND_COMPLETE -> "BindComplete";
            case Backend.CLOSE_COMPLETE -> "CloseComplete";
            case Backend.NO_DATA -> "NoData";
            case Backend.PORTAL_SUSPENDED -> "PortalSuspended";
            case Backend.PARAMETER_DESCRIPTION -> "ParameterDescription";
            case Backend.COPY_IN_RESPONSE -> "CopyInResponse";
            case Backend.COPY_OUT_RESPONSE -> "CopyOutResponse";
            case Backend.COPY_BOTH_RESPONSE -> "CopyBothResponse";
            case Backend.COPY_DATA -> "CopyData";
            case Backend.COPY_DONE -> "CopyDone";
            case Backend.NOTIFICATION_RESPONSE -> "NotificationResponse";
            case Backend.NEGOTIATE_PROTOCOL_VERSION -> "NegotiateProtocolVersion";
            case Backend.FUNCTION_CALL_RESPONSE -> "FunctionCallResponse";
            default -> unknown(tag);
        };
    }

    private static String unknown(byte tag) {
        int unsigned = tag & 0xff;
        String hex = String.format("0x%02x", unsigned);
        // Quoting a control character would garble the log line, so only printable ASCII is shown as itself.
        if (unsigned >= 0x20 && unsigned < 0x7f) {
            return "unknown '" + (char) unsigned + "' (" + hex + ")";
        }
        return "unknown (" + hex + ")";
    }
}
