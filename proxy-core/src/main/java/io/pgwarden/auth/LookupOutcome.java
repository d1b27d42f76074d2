package io.pgwarden.auth;

import io.pgwarden.config.UserConfig;
import io.pgwarden.protocol.ErrorResponse;

/**
 * What a lookup found: a user to authenticate against, no usable user (with the real reason, for the operator's
 * log only: the client is told the same 28P01 in every case), or no answer at all.
 *
 * @param user the user with its stored secret, or null
 * @param reason why {@code user} is null, for the log; "found" otherwise
 * @param error set when PostgreSQL gave no answer: what the client is told instead of trying to authenticate
 * @param unreachable with {@code error}: PostgreSQL could not be reached, so an expired answer may stand in
 */
public record LookupOutcome(UserConfig user, String reason, ErrorResponse error, boolean unreachable) {

    static LookupOutcome found(UserConfig user) {
        return new LookupOutcome(user, "found", null, false);
    }

    static LookupOutcome none(String reason) {
        return new LookupOutcome(null, reason, null, false);
    }

    static LookupOutcome failed(ErrorResponse error, boolean unreachable) {
        return new LookupOutcome(null, "lookup failed", error, unreachable);
    }

    boolean answered() {
        return error == null;
    }

    /** Its weight in the cache, in chars: the name and secret dominate, the rest is a guess at object overhead. */
    int weight() {
        return 96 + reason.length() + (user == null ? 0 : user.name().length() + user.password().length());
    }
}
