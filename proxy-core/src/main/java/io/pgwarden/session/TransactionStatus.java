package io.pgwarden.session;

/** The transaction status PostgreSQL reports in ReadyForQuery, the only source of truth for it. */
public enum TransactionStatus {
    IDLE('I'), IN_TRANSACTION('T'), FAILED_TRANSACTION('E');

    private final byte wireByte;

    TransactionStatus(char wireByte) {
        this.wireByte = (byte) wireByte;
    }

    public byte wireByte() {
        return wireByte;
    }

    public static TransactionStatus fromWire(byte status) {
        return switch (status) {
            case 'I' -> IDLE;
            case 'T' -> IN_TRANSACTION;
            case 'E' -> FAILED_TRANSACTION;
            default -> throw new io.pgwarden.protocol.ProtocolException(
                    "unknown transaction status '" + (char) status + "' in ReadyForQuery");
        };
    }
}
