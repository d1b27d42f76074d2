package io.pgwarden.session;

import io.netty.buffer.ByteBuf;
import io.pgwarden.backend.BackendConnection;
import io.pgwarden.backend.PreparedOnBackend;
import io.pgwarden.protocol.ErrorResponse;
import io.pgwarden.protocol.ExtendedQueryMessages;
import io.pgwarden.protocol.Frames;
import io.pgwarden.protocol.Tags;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Transaction mode: makes a client's named prepared statements follow it from backend to backend.
 * The client's names map to proxy-wide names, so clients preparing the same query share server-side copies.
 * A client's own Parse always reaches the server, so what it is told (parameter and result types, errors) is
 * what a Parse directly against PostgreSQL tells. A statement missing on the current backend is prepared there
 * just before the Bind or Describe that needs it, in the same round trip. A copy some other client prepared is
 * used only where the client cannot tell it from its own: same parameter and result types, or, when the copy is
 * newer and differs (the schema changed since the client's Parse), the client gets the error PostgreSQL gives for
 * a statement prepared under the old schema, which drivers answer by preparing it again.
 */
final class PreparedStatementRelay {

    /**
     * Sent in place of the Bind or Describe of an outdated statement: a Parse that fails, so the server skips to
     * Sync as after any error. It fails only at analysis, which an aborted transaction refuses first (25P02),
     * as it would the client's request; its text is what the server's log shows. Named, so the client's unnamed
     * statement stays.
     */
    private static final byte[] FAILING_PARSE =
            "SELECT \"pgwarden: outdated prepared statement, answered with 0A000\"\0\0\0"
                    .getBytes(StandardCharsets.UTF_8);
    private static final String FAILING_PARSE_NAME = "pgwarden_outdated";
    private static final String UNDEFINED_COLUMN = "42703";
    /**
     * A client past its share of statement memory: class 53, insufficient resources, as PostgreSQL reports
     * running out of memory (53200), not a program limit (54000), since the client can free it by deallocating.
     */
    private static final String OUT_OF_MEMORY = "53200";
    static final String PER_CLIENT_KEY = "listen.max_prepared_statement_bytes_per_client";
    static final String PROXY_KEY = "listen.max_prepared_statement_bytes";

    /** Names also as UTF-8, so that the Bind of every transaction is matched and renamed without encoding. */
    private static final class Statement {
        final String clientName;
        final byte[] clientNameBytes;
        /** Held from the client's Parse until the statement is gone; its text is shared with other clients. */
        final StatementNames.Shared shared;
        final String serverName;
        final byte[] serverNameBytes;
        final byte[] parseBody;
        /** What it counts against the client's share. */
        final long cost;
        /** The stamp of the copy the client's own Parse made. */
        final long parseStamp;
        /** Taken once the server had parsed it: a copy whose Parse was sent later is at least as new. */
        long parsedBy = Long.MAX_VALUE;
        /** As the client's Parse was described; 0 until known. */
        long shape;

        Statement(String clientName, byte[] clientNameBytes, StatementNames.Shared shared, long cost,
                  long parseStamp) {
            this.clientName = clientName;
            this.clientNameBytes = clientNameBytes;
            this.shared = shared;
            this.serverName = shared.name();
            this.serverNameBytes = shared.nameBytes();
            this.parseBody = shared.body();
            this.cost = cost;
            this.parseStamp = parseStamp;
        }
    }

    private final StatementNames names;
    private final int maxPerBackend;
    private final Map<String, Statement> clientStatements = new HashMap<>();
    /** Bytes of the Parse bodies of {@link #clientStatements}, each counted in {@link #names} too. */
    private long bytes;
    /**
     * The statement of the last Bind: a client binds the same few statements over and over. It is used only
     * while it is still what its name maps to, so Parse, Close and DEALLOCATE need not know of it.
     */
    private Statement lastBound;

    PreparedStatementRelay(StatementNames names, int maxPerBackend) {
        this.names = names;
        this.maxPerBackend = maxPerBackend;
    }

    /**
     * Relays one Parse, Bind, Describe or Close to the link's backend, recording the responses owed.
     * Takes ownership of {@code message}.
     */
    void relay(ByteBuf message, byte tag, BackendLink link) {
        switch (tag) {
            case Tags.Frontend.PARSE -> relayParse(message, link);
            case Tags.Frontend.BIND -> relayBind(message, link);
            default -> relayDescribeOrClose(message, tag, link);
        }
    }

    private void relayParse(ByteBuf message, BackendLink link) {
        BackendConnection backend = link.backend();
        if (ExtendedQueryMessages.firstNameIsEmpty(message)) {
            passThrough(message, Tags.Frontend.PARSE, backend, link.pending());
            return;
        }
        String clientName = ExtendedQueryMessages.parseStatementName(message);
        byte[] body = ExtendedQueryMessages.parseBody(message);
        message.release();
        byte[] clientNameBytes = clientName.getBytes(StandardCharsets.UTF_8);
        long cost = StatementNames.cost(body) + clientNameBytes.length;
        Statement old = clientStatements.get(clientName);
        boolean overShare = bytes + cost - (old != null ? old.cost : 0) > names.maxBytesPerClient();
        StatementNames.Shared shared = overShare ? null : names.acquire(body);
        if (shared == null) {
            // Refused before anything is kept: one client's statements must not take memory from the others.
            refuse(link, overShare ? PER_CLIENT_KEY : PROXY_KEY);
            return;
        }
        if (old != null) {
            drop(clientStatements.remove(clientName));
        }
        Statement statement = new Statement(clientName, clientNameBytes, shared, cost, names.nextStamp());
        clientStatements.put(clientName, statement);
        bytes += cost;
        prepare(statement, backend, link.pending(), false);
    }

    /**
     * Answers a Parse that would go past {@code key} as PostgreSQL answers a request it has no memory for; the
     * server skips the rest of the batch up to Sync, and the client keeps its connection and statements.
     */
    private static void refuse(BackendLink link, String key) {
        failWith(link, ErrorResponse.error(OUT_OF_MEMORY, "out of memory")
                .withDetail("Prepared statements would take more than " + key + " allows.")
                .withHint("Deallocate prepared statements, or raise " + key + "."));
    }

    private void relayBind(ByteBuf message, BackendLink link) {
        Statement statement = lastBound;
        if (statement == null || !ExtendedQueryMessages.bindNamesStatement(message, statement.clientNameBytes)
                || clientStatements.get(statement.clientName) != statement) {
            String clientName = ExtendedQueryMessages.bindStatementName(message);
            statement = clientName.isEmpty() ? null : clientStatements.get(clientName);
            lastBound = statement;
        }
        BackendConnection backend = link.backend();
        if (statement == null) {
            // Unnamed, or unknown to us: the server gives the answer PostgreSQL would.
            passThrough(message, Tags.Frontend.BIND, backend, link.pending());
            return;
        }
        if (!ensurePrepared(statement, backend, link.pending())) {
            link.streamHeadDropped = Frames.isPartial(message);
            message.release();
            failAsOutdated(link);
            return;
        }
        ByteBuf renamed = ExtendedQueryMessages.renameBindStatement(backend.channel().alloc(), message,
                statement.serverNameBytes);
        message.release();
        backend.write(renamed);
        link.pending().clientSent(Tags.Frontend.BIND);
    }

    private void relayDescribeOrClose(ByteBuf message, byte tag, BackendLink link) {
        BackendConnection backend = link.backend();
        PendingResponses pending = link.pending();
        String clientName = ExtendedQueryMessages.targetKind(message) == ExtendedQueryMessages.STATEMENT
                ? ExtendedQueryMessages.targetName(message) : "";
        Statement statement = clientName.isEmpty() ? null : clientStatements.get(clientName);
        if (statement == null) {
            passThrough(message, tag, backend, pending);
            return;
        }
        message.release();
        if (tag == Tags.Frontend.CLOSE) {
            // Other clients may share the server-side statement; it stays until the backend's LRU closes it.
            drop(clientStatements.remove(clientName));
            pending.addSynthetic(PendingResponses.Kind.CLOSE, Tags.Backend.CLOSE_COMPLETE);
            return;
        }
        if (!ensurePrepared(statement, backend, pending)) {
            failAsOutdated(link);
            return;
        }
        ByteBuf describe = backend.channel().alloc().buffer();
        ExtendedQueryMessages.writeTarget(describe, Tags.Frontend.DESCRIBE, ExtendedQueryMessages.STATEMENT,
                statement.serverName);
        backend.write(describe);
        pending.clientSent(Tags.Frontend.DESCRIBE);
    }

    /**
     * Makes sure the backend holds a copy of {@code statement} the client cannot tell from its own.
     * @return false when the backend's copy is newer and differs: the client's statement is outdated
     */
    private boolean ensurePrepared(Statement statement, BackendConnection backend, PendingResponses pending) {
        PreparedOnBackend.Copy copy = backend.prepared().use(statement.serverName);
        if (copy != null) {
            if (copy.stamp() == statement.parseStamp
                    || (statement.shape != 0 && copy.shape() == statement.shape)) {
                return true;
            }
            if (statement.shape != 0 && copy.shape() != 0 && copy.stamp() > statement.parsedBy) {
                return false;
            }
        }
        // Missing, or older than the client's Parse: the current schema is the nearest to the client's.
        prepare(statement, backend, pending, true);
        return true;
    }

    /**
     * Sends a Parse under the shared name, replacing the backend's copy of that name or, if the backend is full,
     * first closing its least recently used statement; then a Describe, whose answer gives the copy's shape.
     * {@code implicit}: pgwarden's own, for a Bind or Describe; otherwise the client's Parse, answered to it.
     */
    private void prepare(Statement statement, BackendConnection backend, PendingResponses pending,
                         boolean implicit) {
        PreparedOnBackend prepared = backend.prepared();
        String name = statement.serverName;
        PreparedOnBackend.Copy replaced = prepared.use(name);
        PreparedOnBackend.Copy copy = new PreparedOnBackend.Copy(implicit ? names.nextStamp() : statement.parseStamp);
        Map.Entry<String, PreparedOnBackend.Copy> evicted = prepared.add(name, copy, maxPerBackend);
        if (replaced != null) {
            closeHidden(name, replaced, backend, pending);
        }
        if (evicted != null) {
            closeHidden(evicted.getKey(), evicted.getValue(), backend, pending);
        }
        ByteBuf parse = backend.channel().alloc().buffer();
        ExtendedQueryMessages.writeParse(parse, name, statement.parseBody);
        backend.write(parse);
        // A Parse the server rejects (syntax error, missing table) must not be believed prepared.
        Runnable forget = () -> {
            prepared.remove(name, copy);
            if (!implicit && clientStatements.remove(statement.clientName, statement)) {
                drop(statement);
            }
        };
        pending.add(new PendingResponses.Pending(PendingResponses.Kind.PARSE,
                implicit ? PendingResponses.Route.HIDDEN : PendingResponses.Route.CLIENT, (byte) 0, true, null,
                forget));
        ByteBuf describe = backend.channel().alloc().buffer();
        ExtendedQueryMessages.writeTarget(describe, Tags.Frontend.DESCRIBE, ExtendedQueryMessages.STATEMENT, name);
        backend.write(describe);
        StatementShape shape = new StatementShape(value -> {
            copy.shape(value);
            if (!implicit) {
                statement.shape = value;
                statement.parsedBy = names.nextStamp();
            } else if (statement.shape == 0) {
                // The client's own Parse was never described (its backend was lost): this is the nearest.
                statement.shape = value;
            }
        });
        // Errors are shown: one here would otherwise make the server skip the client's requests unanswered.
        pending.add(new PendingResponses.Pending(PendingResponses.Kind.DESCRIBE, PendingResponses.Route.HIDDEN,
                (byte) 0, true, shape, null));
    }

    private static void closeHidden(String name, PreparedOnBackend.Copy copy, BackendConnection backend,
                                    PendingResponses pending) {
        ByteBuf close = backend.channel().alloc().buffer();
        ExtendedQueryMessages.writeTarget(close, Tags.Frontend.CLOSE, ExtendedQueryMessages.STATEMENT, name);
        backend.write(close);
        PreparedOnBackend prepared = backend.prepared();
        pending.add(new PendingResponses.Pending(PendingResponses.Kind.CLOSE, PendingResponses.Route.HIDDEN,
                (byte) 0, false, null, () -> prepared.restore(name, copy)));
    }

    /**
     * The client's statement was prepared under a schema that has changed since: it gets what PostgreSQL answers
     * a Bind or Describe of such a statement, and the server skips the rest of the batch as after any error. The
     * routine name is part of the answer because drivers (pgjdbc, asyncpg) recognise the error by it and then
     * prepare the statement again.
     */
    private static void failAsOutdated(BackendLink link) {
        failWith(link, null);
    }

    /**
     * Answers the client's request with {@code reply} (null: the outdated-statement error) through a Parse that
     * fails on the server, so the server skips the rest of the batch up to Sync as it would after its own error.
     */
    private static void failWith(BackendLink link, ErrorResponse reply) {
        BackendConnection backend = link.backend();
        ByteBuf parse = backend.channel().alloc().buffer();
        ExtendedQueryMessages.writeParse(parse, FAILING_PARSE_NAME, FAILING_PARSE);
        backend.write(parse);
        PendingResponses.Observer answer = error -> {
            if (Frames.tag(error) != Tags.Backend.ERROR_RESPONSE) {
                return;
            }
            if (UNDEFINED_COLUMN.equals(ErrorResponse.decode(error).sqlstate())) {
                ByteBuf out = link.clientAlloc().buffer();
                if (reply != null) {
                    reply.encode(out);
                } else {
                    writeCachedPlanError(out);
                }
                link.writeToClient(out);
            } else {
                // The transaction had failed already: PostgreSQL says that first.
                link.writeToClient(error.retainedDuplicate());
            }
        };
        link.pending().add(new PendingResponses.Pending(PendingResponses.Kind.PARSE,
                PendingResponses.Route.SUBSTITUTED, (byte) 0, false, answer, null));
    }

    private static void writeCachedPlanError(ByteBuf out) {
        out.writeByte(Tags.Backend.ERROR_RESPONSE);
        int length = out.writerIndex();
        out.writeInt(0);
        field(out, 'S', "ERROR");
        field(out, 'V', "ERROR");
        field(out, 'C', "0A000");
        field(out, 'M', "cached plan must not change result type");
        field(out, 'F', "plancache.c");
        field(out, 'R', "RevalidateCachedQuery");
        out.writeByte(0);
        out.setInt(length, out.writerIndex() - length);
    }

    private static void field(ByteBuf out, char type, String value) {
        out.writeByte(type);
        out.writeCharSequence(value, StandardCharsets.US_ASCII);
        out.writeByte(0);
    }

    private static void passThrough(ByteBuf message, byte tag, BackendConnection backend, PendingResponses pending) {
        backend.write(message);
        pending.clientSent(tag);
    }

    /** DISCARD ALL or DEALLOCATE ALL ran: the client's statements are gone, and so is everything on the backend. */
    void onDeallocateAll(BackendConnection backend) {
        releaseAll();
        backend.prepared().clear();
    }

    /** The client's statements are gone (it left, or deallocated them all): its share of the names goes too. */
    void releaseAll() {
        List<StatementNames.Shared> held = new ArrayList<>(clientStatements.size());
        clientStatements.values().forEach(s -> held.add(s.shared));
        names.releaseAll(held);
        clientStatements.clear();
        bytes = 0;
        lastBound = null;
    }

    /** {@code statement} has just left {@link #clientStatements}. */
    private void drop(Statement statement) {
        names.release(statement.shared);
        bytes -= statement.cost;
    }

    /** Bytes the client's statements count against its share. */
    long bytes() {
        return bytes;
    }

    static boolean isStatementMessage(byte tag) {
        return tag == Tags.Frontend.PARSE || tag == Tags.Frontend.BIND || tag == Tags.Frontend.DESCRIBE
                || tag == Tags.Frontend.CLOSE;
    }

}
