package io.pgwarden;

import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * The package layering of proxy-core, checked on the compiled classes: frontend, then session, then pool, then
 * cluster (which host a database's backends go to), then backend, then the protocol; the console and the metrics read sessions and pools; no package cycle anywhere.
 */
class ArchitectureTest {

    private static final JavaClasses CLASSES = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.pgwarden");

    @Test
    void noPackageDependsOnItselfThroughAnother() {
        slices().matching("io.pgwarden.(**)").should().beFreeOfCycles().check(CLASSES);
    }

    @Test
    void eachLayerUsesOnlyTheLayersBelowIt() {
        layeredArchitecture().consideringOnlyDependenciesInAnyPackage("io.pgwarden..")
                .layer("application").definedBy("io.pgwarden")
                .layer("server").definedBy("io.pgwarden.server..")
                .layer("frontend").definedBy("io.pgwarden.frontend..")
                .layer("admin").definedBy("io.pgwarden.admin..")
                .layer("auth").definedBy("io.pgwarden.auth..")
                .layer("replication").definedBy("io.pgwarden.replication..")
                .layer("session").definedBy("io.pgwarden.session..")
                .layer("pool").definedBy("io.pgwarden.pool..")
                .layer("cluster").definedBy("io.pgwarden.cluster..")
                .layer("backend").definedBy("io.pgwarden.backend..")
                .layer("net").definedBy("io.pgwarden.net..")
                .layer("metrics").definedBy("io.pgwarden.metrics..")
                .layer("config").definedBy("io.pgwarden.config..")
                .layer("protocol").definedBy("io.pgwarden.protocol..")
                .whereLayer("application").mayNotBeAccessedByAnyLayer()
                .whereLayer("server").mayOnlyBeAccessedByLayers("application")
                .whereLayer("frontend").mayOnlyBeAccessedByLayers("server", "application")
                .whereLayer("admin").mayOnlyBeAccessedByLayers("frontend", "application")
                .whereLayer("auth").mayOnlyBeAccessedByLayers("frontend", "application")
                .whereLayer("replication").mayOnlyBeAccessedByLayers("frontend")
                .whereLayer("session").mayOnlyBeAccessedByLayers("frontend", "admin", "replication", "application")
                .whereLayer("pool").mayOnlyBeAccessedByLayers("session", "frontend", "admin", "replication",
                        "auth", "application")
                .whereLayer("cluster").mayOnlyBeAccessedByLayers("pool", "session", "frontend", "admin",
                        "replication", "auth", "application")
                .whereLayer("backend").mayOnlyBeAccessedByLayers("pool", "cluster", "session", "admin",
                        "replication", "auth", "application")
                .whereLayer("metrics").mayOnlyBeAccessedByLayers("pool", "cluster", "backend", "session", "frontend", "admin",
                        "replication", "auth", "application")
                .check(CLASSES);
    }
}
