package io.pgwarden.log;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ConfiguratorRank;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.spi.ContextAwareBase;

/**
 * pgwarden's log set-up: text lines on standard output, root level from {@code PGWARDEN_LOG_LEVEL} (default INFO),
 * Netty at WARN. Built in code because logback's XML configuration (a SAX parser, Joran's model and its reflection,
 * some 1,100 classes) was the largest single cost of the start, about a third of the main thread's time to the
 * first login. A configuration file still wins: {@code -Dlogback.configurationFile} (logback-json.xml, an
 * operator's own) or a logback.xml / logback-test.xml on the class path are read by logback as before.
 */
@ConfiguratorRank(ConfiguratorRank.CUSTOM_HIGH_PRIORITY)
public final class ConsoleLogging extends ContextAwareBase implements Configurator {

    static final String PATTERN = "%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level %logger{0} - %msg%n";
    static final String LEVEL_VARIABLE = "PGWARDEN_LOG_LEVEL";

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        if (System.getProperty("logback.configurationFile") != null || onClassPath("logback-test.xml")
                || onClassPath("logback.xml")) {
            return ExecutionStatus.INVOKE_NEXT_IF_ANY;
        }
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern(PATTERN);
        encoder.start();
        ConsoleAppender<ILoggingEvent> stdout = new ConsoleAppender<>();
        stdout.setContext(context);
        stdout.setName("STDOUT");
        stdout.setEncoder(encoder);
        stdout.start();
        context.getLogger("io.netty").setLevel(Level.WARN);
        ch.qos.logback.classic.Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        String level = rootLevel();
        // As logback's ${PGWARDEN_LOG_LEVEL:-INFO} did: blank keeps logback's default, a bad name means DEBUG.
        if (!level.isBlank()) {
            root.setLevel(Level.toLevel(level));
        }
        root.addAppender(stdout);
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }

    /** A system property first, then the environment, as logback's variable substitution looks them up. */
    private static String rootLevel() {
        String value = System.getProperty(LEVEL_VARIABLE);
        if (value == null) {
            value = System.getenv(LEVEL_VARIABLE);
        }
        return value == null ? "INFO" : value;
    }

    private static boolean onClassPath(String resource) {
        ClassLoader loader = ConsoleLogging.class.getClassLoader();
        return loader != null && loader.getResource(resource) != null;
    }
}
