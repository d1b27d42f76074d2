package io.pgwarden.session.sql;

/**
 * Statements that change the session's identity beyond the transaction: {@code SET [SESSION] ROLE} and
 * {@code SET [SESSION] SESSION AUTHORIZATION} (in any of their spellings, {@code SET role = x} included) but not
 * SET LOCAL nor a return to NONE or DEFAULT; and {@code set_config('role' | 'session_authorization', v, l)}
 * unless {@code l} is plainly true (an expression or a parameter counts as false).
 */
final class IdentityMatcher {

    static final String ROLE = "SET ROLE";
    static final String AUTHORIZATION = "SET SESSION AUTHORIZATION";

    private static final int SET_START = 0;
    private static final int SET_SESSION = 1;
    private static final int SET_SESSION_SESSION = 2;
    private static final int SET_ROLE_VALUE = 3;
    private static final int SET_AUTHORIZATION_VALUE = 4;
    private static final int SET_DONE = 5;

    private int setStep;
    private int configStep;
    private int configDepth;
    private boolean configRole;
    private boolean configIdentity;
    private boolean configLocal;
    private boolean sawSetConfig;
    /** A set_config call of this statement whose third argument is not plainly true is open or was made. */
    private boolean configPending;
    private boolean configLasting;
    /** The custom setting ({@code myapp.x}) the open call names, and one a lasting call set, not yet taken. */
    private String configCustom;
    private String customSet;

    void start() {
        setStep = SET_START;
        configStep = 0;
        sawSetConfig = false;
        configPending = false;
        configLasting = false;
        configCustom = null;
        customSet = null;
    }

    /** The statement may change a setting beyond its transaction with set_config. */
    boolean setConfigLasts() {
        return configPending || configLasting;
    }

    /** The custom setting a lasting set_config of the statement just named, once; else null. */
    String takeCustomSetting() {
        String name = customSet;
        customSet = null;
        return name;
    }

    /** The statement called set_config, so its literals are setting values. */
    boolean sawSetConfig() {
        return sawSetConfig;
    }

    /**
     * Takes the next token ({@code w} its {@link Vocabulary} code); returns what the statement changes once it is
     * known, else null.
     *
     * @param afterSet the statement is a SET and this token is not its first
     */
    String next(StatementScanner s, int w, boolean afterSet) {
        String set = afterSet ? set(s, w) : null;
        String config = setConfig(s, w);
        return set != null ? set : config;
    }

    private String set(StatementScanner s, int w) {
        switch (setStep) {
            case SET_START -> setStep = w == Vocabulary.LOCAL ? SET_DONE
                    : w == Vocabulary.SESSION ? SET_SESSION : variable(s);
            case SET_SESSION -> setStep = w == Vocabulary.AUTHORIZATION ? SET_AUTHORIZATION_VALUE
                    : w == Vocabulary.SESSION ? SET_SESSION_SESSION : variable(s);
            case SET_SESSION_SESSION -> setStep = w == Vocabulary.AUTHORIZATION ? SET_AUTHORIZATION_VALUE : SET_DONE;
            case SET_ROLE_VALUE, SET_AUTHORIZATION_VALUE -> {
                if (w == Vocabulary.TO || s.isPunctuation('=')) {
                    return null;
                }
                boolean role = setStep == SET_ROLE_VALUE;
                setStep = SET_DONE;
                // Back to the login identity: nothing the next client could inherit.
                if (w != Vocabulary.DEFAULT && !(role && s.isName("none"))) {
                    return role ? ROLE : AUTHORIZATION;
                }
            }
            default -> {
            }
        }
        return null;
    }

    /** Setting names are looked up ignoring case, even quoted ones. */
    private static int variable(StatementScanner s) {
        return s.isNameIgnoringCase("role") ? SET_ROLE_VALUE
                : s.isNameIgnoringCase("session_authorization") ? SET_AUTHORIZATION_VALUE : SET_DONE;
    }

    private String setConfig(StatementScanner s, int w) {
        String found = null;
        switch (configStep) {
            case 1 -> configStep = s.isPunctuation('(') ? 2 : 0;
            case 2 -> {
                configRole = s.stringEqualsIgnoringCase("role");
                configIdentity = configRole || s.stringEqualsIgnoringCase("session_authorization");
                configCustom = !configIdentity && s.kind() == StatementScanner.Kind.STRING
                        && s.stringContainsIgnoringCase(".") ? s.text() : null;
                configStep = 3;
            }
            case 3 -> {
                configStep = s.isPunctuation(',') ? 4 : 0;
                configDepth = 0;
            }
            case 4 -> configStep = s.isPunctuation(',') && configDepth == 0 ? 5 : nest(s) ? 4 : 0;
            case 5, 6 -> {
                if (s.isPunctuation(')') && configDepth == 0) {
                    configPending = false;
                    if (configStep == 5 || !configLocal) {
                        configLasting = true;
                        if (configIdentity) {
                            found = configRole ? ROLE : AUTHORIZATION;
                        } else if (configCustom != null) {
                            customSet = configCustom.toLowerCase(java.util.Locale.ROOT);
                        }
                    }
                    configStep = 0;
                } else {
                    // One token that spells true, or is_local is not known to be true.
                    configLocal = configStep == 5 && (w == Vocabulary.TRUE || isTrueLiteral(s));
                    configStep = nest(s) ? 6 : 0;
                }
            }
            default -> {
            }
        }
        if (w == Vocabulary.SET_CONFIG) {
            configStep = 1;
            sawSetConfig = true;
            configPending = true;
        }
        return found;
    }

    /** Follows parentheses inside an argument; false when the call closed early. */
    private boolean nest(StatementScanner s) {
        if (s.isPunctuation('(')) {
            configDepth++;
        } else if (s.isPunctuation(')')) {
            configDepth--;
        }
        return configDepth >= 0;
    }

    private static boolean isTrueLiteral(StatementScanner s) {
        return s.stringEqualsIgnoringCase("true") || s.stringEqualsIgnoringCase("t") || s.stringEqualsIgnoringCase("on")
                || s.stringEqualsIgnoringCase("yes") || s.stringEqualsIgnoringCase("y")
                || s.stringEqualsIgnoringCase("1");
    }
}
