package io.pgwarden.it;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import org.slf4j.LoggerFactory;

/** The lines pgwarden logs while it is open, as the text a log file would hold. */
final class LogCapture implements AutoCloseable {

    private final Logger logger = (Logger) LoggerFactory.getLogger("io.pgwarden");
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();
    private final List<Runnable> restore = new java.util.ArrayList<>();

    LogCapture() {
        appender.start();
        logger.addAppender(appender);
    }

    /** The formatted messages at info or above logged so far whose text contains {@code part}. */
    List<String> lines(String part) {
        // AppenderBase.doAppend holds the appender's monitor while it adds to the list; the list's own is never taken.
        synchronized (appender) {
            return appender.list.stream().filter(e -> e.getLevel().isGreaterOrEqual(Level.INFO))
                    .map(ILoggingEvent::getFormattedMessage).filter(m -> m.contains(part)).toList();
        }
    }

    /** Also keeps the DEBUG lines of {@code name}'s logger until closed; {@link #debugLines} returns them. */
    LogCapture debug(Class<?> name) {
        Logger l = (Logger) LoggerFactory.getLogger(name);
        Level before = l.getLevel();
        restore.add(() -> l.setLevel(before));
        l.setLevel(Level.DEBUG);
        return this;
    }

    /** The formatted DEBUG messages logged so far whose text contains {@code part}. */
    List<String> debugLines(String part) {
        synchronized (appender) {
            return appender.list.stream().filter(e -> e.getLevel() == Level.DEBUG)
                    .map(ILoggingEvent::getFormattedMessage).filter(m -> m.contains(part)).toList();
        }
    }

    @Override
    public void close() {
        logger.detachAppender(appender);
        restore.forEach(Runnable::run);
    }
}
