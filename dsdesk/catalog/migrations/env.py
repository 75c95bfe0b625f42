"""Alembic environment: runs migrations on the engine dsdesk hands over."""

from alembic import context

from dsdesk.catalog.models import Base

config = context.config
target_metadata = Base.metadata


def run() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        from sqlalchemy import create_engine

        engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        raw = connection.connection.dbapi_connection
        if sqlite:
            # A migration that rebuilds a table (SQLite's way of changing one) drops it; with
            # foreign keys on that drop would cascade into every table pointing at it.  The
            # pragma only takes effect outside a transaction, hence before BEGIN, and the
            # keys are checked before the commit.
            raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                context.configure(
                    connection=connection,
                    target_metadata=target_metadata,
                    render_as_batch=sqlite,  # SQLite ALTER needs batch mode
                    transactional_ddl=True,
                )
                context.run_migrations()
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"the migration broke foreign keys: {broken[:5]}")
        finally:
            if sqlite:
                raw.execute("PRAGMA foreign_keys=ON")


run()
