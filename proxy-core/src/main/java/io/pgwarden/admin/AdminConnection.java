package io.pgwarden.admin;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.pgwarden.pool.BackendPool;
import io.pgwarden.protocol.BackendMessages;
import io.pgwarden.protocol.ErrorResponse;
import io.pgwarden.protocol.Frames;
import io.pgwarden.protocol.Tags;
import io.pgwarden.session.TransactionStatus;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/** A client of the virtual admin database: no pool, no backend; the console answers its simple queries. */
public final class AdminConnection {

    private final AdminConsole console;
    /** After an extended-protocol message, the rest of its batch is skipped up to Sync, as PostgreSQL does. */
    private boolean discardUntilSync;

    public AdminConnection(AdminConsole console) {
        this.console = console;
    }

    /** What the login reports: enough for psql and drivers to settle their encoding and date handling. */
    public static Map<String, String> loginParameters(Collection<BackendPool> pools) {
        Map<String, String> parameters = new LinkedHashMap<>();
        pools.stream().map(BackendPool::serverParameters).filter(Objects::nonNull).findFirst()
                .ifPresent(p -> parameters.put("server_version", p.get("server_version")));
        parameters.putIfAbsent("server_version", "17.0");
        parameters.put("server_encoding", "UTF8");
        parameters.put("client_encoding", "UTF8");
        parameters.put("DateStyle", "ISO, MDY");
        parameters.put("integer_datetimes", "on");
        parameters.put("standard_conforming_strings", "on");
        parameters.put("TimeZone", "UTC");
        return parameters;
    }

    /** The answer to one client message, for the caller to write. Takes ownership of {@code message}. */
    public ByteBuf answer(ByteBufAllocator alloc, ByteBuf message, byte tag) {
        ByteBuf out = alloc.buffer();
        try {
            if (tag == Tags.Frontend.QUERY) {
                int start = message.readerIndex() + Frames.HEADER_LENGTH;
                int end = message.indexOf(start, message.writerIndex(), (byte) 0);
                String sql = message.toString(start, Math.max(0, end - start), StandardCharsets.UTF_8);
                AdminResults.write(out, console.execute(sql));
                BackendMessages.readyForQuery(out, TransactionStatus.IDLE.wireByte());
            } else if (tag == Tags.Frontend.SYNC) {
                BackendMessages.readyForQuery(out, TransactionStatus.IDLE.wireByte());
            } else if (!discardUntilSync) {
                ErrorResponse.error("0A000", "the pgwarden admin console speaks the simple query protocol only "
                        + "(psql, or preferQueryMode=simple in pgjdbc)").encode(out);
                discardUntilSync = true;
            }
            if (tag == Tags.Frontend.SYNC) {
                discardUntilSync = false;
            }
            return out;
        } catch (RuntimeException e) {
            out.release();
            throw e;
        } finally {
            message.release();
        }
    }
}
