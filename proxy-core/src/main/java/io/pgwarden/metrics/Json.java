package io.pgwarden.metrics;

import java.util.List;

/** The tiny JSON bodies the endpoints return; hand-written so the proxy needs no JSON library. */
final class Json {

    private Json() {
    }

    static final String HEALTH_UP = "{\"status\":\"up\"}";
    static final String STOPPING = "{\"ready\":false,\"stopping\":true,\"pools\":[]}";

    static boolean allReady(List<PoolView> pools) {
        return pools.stream().allMatch(PoolView::ready);
    }

    /** {"ready":bool,"pools":[{"database":..,"user":..,"ready":..,"detail":..},...]}; a null detail is null. */
    static String readiness(List<PoolView> pools) {
        StringBuilder out = new StringBuilder("{\"ready\":").append(allReady(pools)).append(",\"pools\":[");
        for (int i = 0; i < pools.size(); i++) {
            PoolView p = pools.get(i);
            if (i > 0) {
                out.append(',');
            }
            out.append("{\"database\":");
            string(out, p.database());
            out.append(",\"user\":");
            string(out, p.user());
            out.append(",\"ready\":").append(p.ready()).append(",\"detail\":");
            string(out, p.readinessDetail());
            out.append('}');
        }
        return out.append("]}").toString();
    }

    /** Appends a JSON string literal (RFC 8259 escaping), or null. */
    static void string(StringBuilder out, String value) {
        if (value == null) {
            out.append("null");
            return;
        }
        out.append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    // Other control characters must be \\u-escaped; U+2028/9 too, so the body is also valid JS.
                    if (c < 0x20 || c == '\u2028' || c == '\u2029') {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
