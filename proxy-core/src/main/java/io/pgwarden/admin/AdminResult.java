package io.pgwarden.admin;

import java.util.List;

/** What one admin command answers: a result set, a bare command tag, or an error. */
public record AdminResult(List<String> columns, List<List<String>> rows, String commandTag, String errorSqlstate,
                          String errorMessage) {

    static AdminResult table(List<String> columns, List<List<String>> rows) {
        return new AdminResult(columns, rows, "SHOW", null, null);
    }

    static AdminResult done(String commandTag) {
        return new AdminResult(null, null, commandTag, null, null);
    }

    static AdminResult error(String sqlstate, String message) {
        return new AdminResult(null, null, null, sqlstate, message);
    }

    public boolean isError() {
        return errorSqlstate != null;
    }
}
