"""Alembic environment. The URL comes from `songnuan init-db` (workflows.schema.upgrade), never from a file."""

from alembic import context

from workflows.models import Base

config = context.config
target_metadata = Base.metadata


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        from workflows.infra.db import make_engine

        with make_engine(config.get_main_option("sqlalchemy.url")).connect() as connection:
            _migrate(connection)
    else:
        _migrate(connection)


def _migrate(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


run()
