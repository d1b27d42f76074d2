package io.pgwarden.protocol;

import io.netty.buffer.ByteBuf;

/** Sent on a fresh connection to cancel the query running on the backend identified by the key pair. */
public record CancelRequest(int processId, int secretKey) implements StartupRequest {

    private static final int LENGTH = 16;

    public void encode(ByteBuf out) {
        out.writeInt(LENGTH);
        out.writeInt(StartupRequest.CANCEL_REQUEST_CODE);
        out.writeInt(processId);
        out.writeInt(secretKey);
    }

    // The secret key authorises cancelling someone's query, so it stays out of logs.
    @Override
    public String toString() {
        return "CancelRequest[processId=" + processId + "]";
    }
}
