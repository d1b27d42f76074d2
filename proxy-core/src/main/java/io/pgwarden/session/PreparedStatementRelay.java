package io.pgwarden.session;

import io.netty.buffer.ByteBuf;
import io.pgwarden.backend.BackendConnection;
import io.pgwarden.protocol.ExtendedQueryMessages;
import io.pgwarden.protocol.Tags;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * Transaction mode: makes a client's named prepared statements follow it from backend to backend.
 * The client's names map to proxy-wide names; a statement missing on the current backend is prepared there
 * just before the Bind or Describe that needs it, in the same round trip; Parse and Close are answered from
 * pgwarden's own bookkeeping when the server need not be asked.
 */
final class PreparedStatementRelay {

    /** Names also as UTF-8, so that the Bind of every transaction is matched and renamed without encoding. */
    private record Statement(String clientName, byte[] clientNameBytes, String serverName, byte[] serverNameBytes,
                             byte[] parseBody) {
        Statement(String clientName, String serverName, byte[] parseBody) {
            this(clientName, clientName.getBytes(StandardCharsets.UTF_8), serverName,
                    serverName.getBytes(StandardCharsets.UTF_8), parseBody);
        }
    }

    private final StatementNames names;
    private final int maxPerBackend;
    private final Map<String, Statement> clientStatements = new HashMap<>();
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
     * Relays one Parse, Bind, Describe or Close to {@code backend}, recording the responses owed.
     * Takes ownership of {@code message}.
     */
    void relay(ByteBuf message, byte tag, BackendConnection backend, PendingResponses pending) {
        switch (tag) {
            case Tags.Frontend.PARSE -> relayParse(message, backend, pending);
            case Tags.Frontend.BIND -> relayBind(message, backend, pending);
            default -> relayDescribeOrClose(message, tag, backend, pending);
        }
    }

    private void relayParse(ByteBuf message, BackendConnection backend, PendingResponses pending) {
        if (ExtendedQueryMessages.firstNameIsEmpty(message)) {
            passThrough(message, Tags.Frontend.PARSE, backend, pending);
            return;
        }
        String clientName = ExtendedQueryMessages.parseStatementName(message);
        byte[] body = ExtendedQueryMessages.parseBody(message);
        message.release();
        Statement statement = new Statement(clientName, names.nameFor(body), body);
        clientStatements.put(clientName, statement);
        if (backend.prepared().use(statement.serverName())) {
            pending.addSynthetic(PendingResponses.Kind.PARSE, Tags.Backend.PARSE_COMPLETE);
            return;
        }
        prepare(statement, backend, pending, false, () -> clientStatements.remove(clientName, statement));
    }

    private void relayBind(ByteBuf message, BackendConnection backend, PendingResponses pending) {
        Statement statement = lastBound;
        if (statement == null || !ExtendedQueryMessages.bindNamesStatement(message, statement.clientNameBytes())
                || clientStatements.get(statement.clientName()) != statement) {
            String clientName = ExtendedQueryMessages.bindStatementName(message);
            statement = clientName.isEmpty() ? null : clientStatements.get(clientName);
            lastBound = statement;
        }
        if (statement == null) {
            // Unnamed, or unknown to us: the server gives the answer PostgreSQL would.
            passThrough(message, Tags.Frontend.BIND, backend, pending);
            return;
        }
        ensurePrepared(statement, backend, pending);
        ByteBuf renamed = ExtendedQueryMessages.renameBindStatement(backend.channel().alloc(), message,
                statement.serverNameBytes());
        message.release();
        backend.write(renamed);
        pending.clientSent(Tags.Frontend.BIND);
    }

    private void relayDescribeOrClose(ByteBuf message, byte tag, BackendConnection backend,
                                      PendingResponses pending) {
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
            clientStatements.remove(clientName);
            pending.addSynthetic(PendingResponses.Kind.CLOSE, Tags.Backend.CLOSE_COMPLETE);
            return;
        }
        ensurePrepared(statement, backend, pending);
        ByteBuf describe = backend.channel().alloc().buffer();
        ExtendedQueryMessages.writeTarget(describe, Tags.Frontend.DESCRIBE, ExtendedQueryMessages.STATEMENT,
                statement.serverName());
        backend.write(describe);
        pending.clientSent(Tags.Frontend.DESCRIBE);
    }

    private void ensurePrepared(Statement statement, BackendConnection backend, PendingResponses pending) {
        if (!backend.prepared().use(statement.serverName())) {
            prepare(statement, backend, pending, true, null);
        }
    }

    /** Sends a Parse under the shared name, first closing the backend's least recently used statement if full. */
    private void prepare(Statement statement, BackendConnection backend, PendingResponses pending, boolean hidden,
                         Runnable onClientParseError) {
        String evicted = backend.prepared().add(statement.serverName(), maxPerBackend);
        if (evicted != null) {
            ByteBuf close = backend.channel().alloc().buffer();
            ExtendedQueryMessages.writeTarget(close, Tags.Frontend.CLOSE, ExtendedQueryMessages.STATEMENT, evicted);
            backend.write(close);
            pending.addHidden(PendingResponses.Kind.CLOSE, false, null);
        }
        ByteBuf parse = backend.channel().alloc().buffer();
        ExtendedQueryMessages.writeParse(parse, statement.serverName(), statement.parseBody());
        backend.write(parse);
        // A Parse the server rejects (syntax error, missing table) must not be believed prepared.
        Runnable forget = () -> {
            backend.prepared().remove(statement.serverName());
            if (onClientParseError != null) {
                onClientParseError.run();
            }
        };
        pending.add(new PendingResponses.Pending(PendingResponses.Kind.PARSE,
                hidden ? PendingResponses.Route.HIDDEN : PendingResponses.Route.CLIENT, (byte) 0, true, null,
                forget));
    }

    private static void passThrough(ByteBuf message, byte tag, BackendConnection backend, PendingResponses pending) {
        backend.write(message);
        pending.clientSent(tag);
    }

    /** DISCARD ALL or DEALLOCATE ALL ran: the client's statements are gone, and so is everything on the backend. */
    void onDeallocateAll(BackendConnection backend) {
        clientStatements.clear();
        backend.prepared().clear();
    }

    static boolean isStatementMessage(byte tag) {
        return tag == Tags.Frontend.PARSE || tag == Tags.Frontend.BIND || tag == Tags.Frontend.DESCRIBE
                || tag == Tags.Frontend.CLOSE;
    }

}
