package io.pgwarden.session.sql;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.util.concurrent.FastThreadLocal;
import io.pgwarden.protocol.Frames;
import io.pgwarden.protocol.Tags;
import io.pgwarden.session.sql.StatementScanner.Kind;
import java.nio.charset.StandardCharsets;

/**
 * What the statements of a Query or Parse leave behind on their backend that pgwarden must act on, read from
 * their tokens in one pass over the text. Comments never count; a literal counts only where it is what a
 * statement acts on (set_config's arguments, a SET value, a DO body), so {@code SELECT 'SET ROLE x'} is nothing:
 * <ul>
 *   <li>{@link #PINNING}: session state another client must never see: {@code SET [SESSION] ROLE},
 *       {@code SET SESSION AUTHORIZATION} (not {@code SET LOCAL}, not back to NONE or DEFAULT),
 *       {@code set_config('role'|'session_authorization', …)} unless its third argument is plainly true,
 *       {@code CREATE [OR REPLACE] [LOCAL|GLOBAL] TEMP|TEMPORARY}, {@code SELECT … INTO TEMP…}, any mention
 *       of the {@code pg_temp} schema (a name, or a literal in SET or after set_config), session advisory
 *       locks, {@code DECLARE … WITH HOLD}, SQL PREPARE (not PREPARE TRANSACTION) and LOAD.</li>
 *   <li>{@link #UNRESTORABLE}: the above, and LISTEN and lo_open.</li>
 *   <li>{@link #DROPPED_DATABASE}: the database of {@code DROP DATABASE [IF EXISTS] name}.</li>
 *   <li>{@link #SETTINGS}: settings changed where no command tag says so: SET or RESET in a DO block, and
 *       set_config unless its third argument is plainly true; with the names of the custom settings
 *       ({@code myapp.x}) SET or set_config name, as PostgreSQL lists those nowhere.</li>
 * </ul>
 * A DO block's body is read as SQL too (its plpgsql statements also start after BEGIN, THEN, ELSE or LOOP);
 * EXECUTE strings inside it and the bodies of functions are not.
 *
 * <p>Nothing is allocated unless something is found: each thread reuses one instance (and one for DO bodies;
 * only a body in '…' with doubled quotes is copied).
 */
public final class StatementEffects {

    public static final int PINNING = 1;
    public static final int UNRESTORABLE = 2;
    public static final int DROPPED_DATABASE = 4;
    public static final int SETTINGS = 8;

    /**
     * What was found first, null where nothing was.
     *
     * @param pinning what pins the client, as "it used X" ends: "SET ROLE", "a temporary table", …
     * @param unrestorable what cannot be rebuilt, as "the session used X" ends
     * @param droppedDatabase the name as PostgreSQL folds it
     * @param settings the statements change session settings, or may
     * @param customSettings the custom settings they change, in lower case; null when none
     */
    public record Found(String pinning, String unrestorable, String droppedDatabase, boolean settings,
            java.util.List<String> customSettings) {
    }

    private static final FastThreadLocal<StatementEffects> PER_THREAD = new FastThreadLocal<>() {
        @Override
        protected StatementEffects initialValue() {
            return new StatementEffects(0);
        }
    };
    /** DO blocks read inside DO blocks, at most. */
    private static final int MAX_DEPTH = 3;

    private final StatementScanner scanner = new StatementScanner();
    private final IdentityMatcher identity = new IdentityMatcher();
    private final TemporaryMatcher temporary = new TemporaryMatcher();
    private final CustomSettingMatcher customSetting = new CustomSettingMatcher();
    private final int depth;
    private final PlainStatementScreen screen;
    /** Reads DO bodies; made on the first one and kept, as this instance is. */
    private StatementEffects body;
    private boolean busy;
    private ByteBuf text;
    private boolean backslashQuotes;
    private int wanted;
    private String pinning;
    private String unrestorable;
    private String droppedDatabase;
    private boolean settings;
    private java.util.List<String> customSettings;

    // The statement being read: token position, first word, and how far each rule has matched.
    private int position;
    private int command;
    private int previous;
    private int dropStep;
    private int prepareStep;
    private int holdStep;

    private StatementEffects(int depth) {
        this.depth = depth;
        // DO bodies are read from inside a scan, never screened.
        this.screen = depth == 0 ? new PlainStatementScreen() : null;
    }

    /**
     * Reads a whole frontend Query or Parse message (header included) for the effects in {@code wanted}.
     * Null when none was found.
     */
    public static Found of(ByteBuf message, byte tag, int wanted) {
        int from = message.readerIndex() + Frames.HEADER_LENGTH;
        int to = message.writerIndex();
        if (tag == Tags.Frontend.PARSE) {
            from = message.indexOf(from, to, (byte) 0) + 1;
        } else if (tag != Tags.Frontend.QUERY) {
            return null;
        }
        if (from <= 0) {
            return null;
        }
        int nul = message.indexOf(from, to, (byte) 0);
        return ofText(message, from, nul < 0 ? to : nul, wanted);
    }

    /** As {@link #of}, for SQL text in bytes {@code from} to {@code to} of {@code text}. */
    public static Found ofText(ByteBuf text, int from, int to, int wanted) {
        return ofText(text, from, to, wanted, true);
    }

    /** With {@code screened} false, always the full scan: the answer the screen is held to in its test. */
    static Found ofText(ByteBuf text, int from, int to, int wanted, boolean screened) {
        StatementEffects effects = PER_THREAD.get();
        if (effects.busy) {
            effects = new StatementEffects(0);
        }
        if (screened && effects.screen.isPlain(text, from, to)) {
            return null;
        }
        effects.busy = true;
        try {
            effects.scan(text, from, to, wanted);
            return effects.found();
        } finally {
            effects.busy = false;
        }
    }

    private void scan(ByteBuf text, int from, int to, int wanted) {
        this.wanted = wanted;
        pinning = null;
        unrestorable = null;
        droppedDatabase = null;
        settings = false;
        customSettings = null;
        run(text, from, to, false);
        // With standard_conforming_strings off such a literal ends elsewhere: read the text that way as well.
        if (!done() && scanner.sawBackslashInString()) {
            run(text, from, to, true);
        }
        scanner.clear();
        this.text = null;
    }

    private Found found() {
        return pinning == null && unrestorable == null && droppedDatabase == null && !settings ? null
                : new Found(pinning, unrestorable, droppedDatabase, settings, customSettings);
    }

    private void run(ByteBuf text, int from, int to, boolean backslashQuotes) {
        this.text = text;
        this.backslashQuotes = backslashQuotes;
        scanner.reset(text, from, to, backslashQuotes);
        // Nothing of the last text's final statement is left to end.
        position = 0;
        customSetting.start(false);
        identity.start();
        boolean dropsOnly = (wanted & (PINNING | UNRESTORABLE | SETTINGS)) == 0;
        while (!done() && scanner.nextStatement()) {
            startStatement();
            do {
                onToken();
                // Only the first word of a statement can make it a DROP DATABASE.
            } while (!done() && !(dropsOnly && command != Vocabulary.DROP) && scanner.nextToken());
        }
        endStatement();
    }

    private boolean done() {
        // Every custom setting changed is wanted, so SETTINGS reads to the end.
        return ((wanted & PINNING) == 0 || pinning != null) && ((wanted & UNRESTORABLE) == 0 || unrestorable != null)
                && ((wanted & DROPPED_DATABASE) == 0 || droppedDatabase != null) && (wanted & SETTINGS) == 0;
    }

    private void startStatement() {
        endStatement();
        position = 0;
        command = 0;
        previous = 0;
        dropStep = 0;
        prepareStep = 0;
        holdStep = 0;
        identity.start();
        temporary.start();
    }

    private void onToken() {
        StatementScanner s = scanner;
        int w = Vocabulary.code(s);
        if (position == 0) {
            command = w;
            if (w == Vocabulary.LISTEN) {
                foundUnrestorable("LISTEN");
            } else if (w == Vocabulary.LOAD) {
                // A library's hooks and settings stay in the backend for good.
                lasting("LOAD");
            } else if (w == Vocabulary.SET || w == Vocabulary.RESET) {
                foundSettings(null);
            }
            customSetting.start(w == Vocabulary.SET);
        } else {
            if (command == Vocabulary.SET) {
                foundCustom(customSetting.next(s, w, position));
            }
            if (command == Vocabulary.DROP) {
                dropRule(s, w);
            } else if (command == Vocabulary.PREPARE) {
                prepareRule(s, w);
            } else if (command == Vocabulary.DECLARE) {
                holdRule(w);
            } else if (command == Vocabulary.DO) {
                doBody(s);
            }
        }
        lasting(identity.next(s, w, command == Vocabulary.SET && position > 0));
        String custom = identity.takeCustomSetting();
        if (custom != null) {
            foundSettings(custom);
        }
        lasting(temporary.next(s, w, previous));
        // Values of SET and set_config are where a search_path puts pg_temp first.
        boolean valuesAreNames = command == Vocabulary.SET || identity.sawSetConfig();
        if (w == Vocabulary.PG_TEMP || s.nameStartsWith("pg_temp_")
                || valuesAreNames && s.stringContainsIgnoringCase("pg_temp")) {
            lasting("the pg_temp schema");
        } else if (w >= Vocabulary.PG_ADVISORY_LOCK && w <= Vocabulary.PG_TRY_ADVISORY_LOCK_SHARED) {
            lasting("a session advisory lock");
        } else if (w == Vocabulary.LO_OPEN) {
            foundUnrestorable("lo_open");
        }
        previous = w;
        position++;
        if (depth > 0 && (w == Vocabulary.BEGIN || w == Vocabulary.THEN || w == Vocabulary.ELSE
                || w == Vocabulary.LOOP)) {
            startStatement();
        }
    }

    /** The end of the statement being read, or of the text: what its set_config calls left. */
    private void endStatement() {
        if (position > 0 && identity.setConfigLasts()) {
            foundSettings(null);
        }
        foundCustom(customSetting.end());
    }

    private void dropRule(StatementScanner s, int w) {
        if ((wanted & DROPPED_DATABASE) == 0 || droppedDatabase != null) {
            return;
        }
        switch (dropStep) {
            case 0 -> dropStep = w == Vocabulary.DATABASE ? 1 : -1;
            case 1 -> dropStep = w == Vocabulary.IF ? 2 : databaseName(s);
            case 2 -> dropStep = w == Vocabulary.EXISTS ? 3 : -1;
            case 3 -> dropStep = databaseName(s);
            default -> {
            }
        }
    }

    private int databaseName(StatementScanner s) {
        if ((s.kind() == Kind.WORD || s.kind() == Kind.QUOTED_IDENTIFIER) && !s.isUnicodeEscaped()) {
            droppedDatabase = s.text();
        }
        return -1;
    }

    private void prepareRule(StatementScanner s, int w) {
        if (prepareStep == 0) {
            prepareStep = 1;
            if (w != Vocabulary.TRANSACTION) {
                lasting("PREPARE");
            }
        } else if (prepareStep == 1) {
            prepareStep = 2;
            // PREPARE TRANSACTION 'gid' hands the transaction to two-phase commit; it leaves the session.
            if (s.kind() != Kind.STRING) {
                lasting("PREPARE");
            }
        }
    }

    private void holdRule(int w) {
        if (holdStep < 0) {
            return;
        }
        if (w == Vocabulary.FOR) {
            // The cursor's options are over; the query that follows may have a WITH of its own.
            holdStep = -1;
        } else if (holdStep == 1 && w == Vocabulary.HOLD) {
            lasting("a WITH HOLD cursor");
        } else {
            holdStep = w == Vocabulary.WITH ? 1 : 0;
        }
    }

    private void doBody(StatementScanner s) {
        if (s.kind() != Kind.STRING || depth >= MAX_DEPTH || (wanted & (PINNING | UNRESTORABLE | SETTINGS)) == 0) {
            return;
        }
        if (body == null) {
            body = new StatementEffects(depth + 1);
        }
        body.wanted = wanted & (PINNING | UNRESTORABLE | SETTINGS);
        body.pinning = null;
        body.unrestorable = null;
        body.settings = false;
        body.customSettings = null;
        if (s.isEscaped()) {
            // A body in '…' doubles its quotes: read it as PostgreSQL hands it to the language.
            byte[] unescaped = s.text().getBytes(StandardCharsets.UTF_8);
            body.run(Unpooled.wrappedBuffer(unescaped), 0, unescaped.length, backslashQuotes);
        } else {
            body.run(text, s.contentStart(), s.contentEnd(), backslashQuotes);
        }
        body.scanner.clear();
        body.text = null;
        foundPinning(body.pinning);
        foundUnrestorable(body.unrestorable);
        if (body.settings) {
            foundSettings(null);
            if (body.customSettings != null) {
                body.customSettings.forEach(this::foundSettings);
            }
        }
    }

    private void foundCustom(String name) {
        if (name != null) {
            foundSettings(name);
        }
    }

    /** Settings change; {@code customName} names a custom one, or is null. */
    private void foundSettings(String customName) {
        if ((wanted & SETTINGS) == 0) {
            return;
        }
        settings = true;
        if (customName != null) {
            if (customSettings == null) {
                customSettings = new java.util.ArrayList<>(2);
            }
            String lower = customName.toLowerCase(java.util.Locale.ROOT);
            if (!customSettings.contains(lower)) {
                customSettings.add(lower);
            }
        }
    }

    /** State both of another client's concern and beyond rebuilding. */
    private void lasting(String what) {
        foundPinning(what);
        foundUnrestorable(what);
    }

    private void foundPinning(String what) {
        if (what != null && pinning == null && (wanted & PINNING) != 0) {
            pinning = what;
        }
    }

    private void foundUnrestorable(String what) {
        if (what != null && unrestorable == null && (wanted & UNRESTORABLE) != 0) {
            unrestorable = what;
        }
    }
}
