package io.pgwarden.session;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * PostgreSQL's names for encodings (its encnames.c): a client may spell one {@code utf8}, {@code UTF-8} or
 * {@code unicode}, and PostgreSQL reports {@code UTF8}. A login pgwarden serves without a backend must report
 * the same spelling.
 */
final class EncodingNames {

    /** By name as PostgreSQL cleans it before looking it up: letters and digits only, in lower case. */
    private static final Map<String, String> CANONICAL = table();

    private EncodingNames() {
    }

    /** PostgreSQL's spelling of {@code name}, or {@code name} itself when PostgreSQL would not know it. */
    static String canonical(String name) {
        StringBuilder clean = new StringBuilder(name.length());
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c < 128 && Character.isLetterOrDigit(c)) {
                clean.append(Character.toLowerCase(c));
            }
        }
        return CANONICAL.getOrDefault(clean.toString(), name);
    }

    private static Map<String, String> table() {
        Map<String, String> t = new HashMap<>();
        for (String name : new String[] {"SQL_ASCII", "EUC_JP", "EUC_CN", "EUC_KR", "EUC_TW", "EUC_JIS_2004", "UTF8",
            "MULE_INTERNAL", "LATIN1", "LATIN2", "LATIN3", "LATIN4", "LATIN5", "LATIN6", "LATIN7", "LATIN8", "LATIN9",
            "LATIN10", "WIN1256", "WIN1258", "WIN866", "WIN874", "KOI8R", "WIN1251", "WIN1252", "ISO_8859_5",
            "ISO_8859_6", "ISO_8859_7", "ISO_8859_8", "WIN1250", "WIN1253", "WIN1254", "WIN1255", "WIN1257", "KOI8U",
            "SJIS", "BIG5", "GBK", "UHC", "GB18030", "JOHAB", "SHIFT_JIS_2004"}) {
            t.put(name.toLowerCase(Locale.ROOT).replace("_", ""), name);
        }
        String[][] aliases = {
            {"abc", "WIN1258"}, {"alt", "WIN866"}, {"iso88591", "LATIN1"}, {"iso88592", "LATIN2"},
            {"iso88593", "LATIN3"}, {"iso88594", "LATIN4"}, {"iso88599", "LATIN5"}, {"iso885910", "LATIN6"},
            {"iso885913", "LATIN7"}, {"iso885914", "LATIN8"}, {"iso885915", "LATIN9"}, {"iso885916", "LATIN10"},
            {"koi8", "KOI8R"}, {"mskanji", "SJIS"}, {"shiftjis", "SJIS"}, {"tcvn", "WIN1258"},
            {"tcvn5712", "WIN1258"}, {"unicode", "UTF8"}, {"vscii", "WIN1258"}, {"win", "WIN1251"},
            {"win932", "SJIS"}, {"win936", "GBK"}, {"win949", "UHC"}, {"win950", "BIG5"}, {"windows932", "SJIS"},
            {"windows936", "GBK"}, {"windows949", "UHC"}, {"windows950", "BIG5"}, {"windows866", "WIN866"},
            {"windows874", "WIN874"},
        };
        for (String[] alias : aliases) {
            t.put(alias[0], alias[1]);
        }
        for (int n = 1250; n <= 1258; n++) {
            t.put("windows" + n, "WIN" + n);
        }
        return Map.copyOf(t);
    }
}
