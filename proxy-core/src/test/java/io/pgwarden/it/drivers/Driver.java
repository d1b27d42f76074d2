package io.pgwarden.it.drivers;

/** The real client drivers the compatibility set runs, each as a program in {@code src/test/resources/drivers}. */
enum Driver {
    PSYCOPG2("psycopg2", "psycopg2_cases.py", "psycopg2-binary", true),
    PSYCOPG3("psycopg 3", "psycopg3_cases.py", "psycopg[binary]", true),
    ASYNCPG("asyncpg", "asyncpg_cases.py", "asyncpg", false),
    PG8000("pg8000", "pg8000_cases.py", "pg8000", false),
    NODE_PG("node-postgres", "node_pg_cases.js", "pg", false);

    final String label;
    final String program;
    /** What pip or npm installs. */
    final String packageSpec;
    /**
     * Whether the error class of a lost connection is comparable with a direct one. libpq drivers raise
     * OperationalError both for a connection PostgreSQL closed and for an error pgwarden answers; asyncpg, pg8000
     * and node-postgres see a direct loss as a closed socket (an interface error), which a connection pgwarden
     * keeps can never be, so for them only the SQLSTATE is compared, where the direct side has one.
     */
    final boolean comparesLostConnectionClass;

    Driver(String label, String program, String packageSpec, boolean comparesLostConnectionClass) {
        this.label = label;
        this.program = program;
        this.packageSpec = packageSpec;
        this.comparesLostConnectionClass = comparesLostConnectionClass;
    }

    boolean isNode() {
        return program.endsWith(".js");
    }

    @Override
    public String toString() {
        return label;
    }
}
