package io.pgwarden.admin;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The version Maven stamped into the jar. */
public final class ProxyVersion {

    private ProxyVersion() {
    }

    public static String get() {
        try (InputStream in = ProxyVersion.class.getResourceAsStream("/pgwarden-version.properties")) {
            Properties properties = new Properties();
            if (in != null) {
                properties.load(in);
            }
            return properties.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }
}
