"""Create or upgrade the schema with Alembic: the one way a database gets its tables."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


# The revision that seals the personal numbers stored before it (0010).
SEALING = "0010"


def upgrade(engine: Engine) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        before = MigrationContext.configure(connection).get_current_revision()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    if engine.dialect.name == "sqlite" and before is not None and before < SEALING:
        # Rows deleted before it (before secure_delete) may have left plain numbers in the file's free pages:
        # VACUUM writes the file afresh, once, outside the migration's transaction as SQLite requires.
        raw = engine.raw_connection()  # the driver's own connection: SQLAlchemy's would begin a transaction
        try:
            raw.driver_connection.execute("VACUUM")
        finally:
            raw.close()
