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
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",  # SQLite ALTER needs batch mode
            transactional_ddl=True,
        )
        context.run_migrations()


run()
