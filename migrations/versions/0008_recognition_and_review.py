"""recognition and the annual review: minimum living standards, rigid spending, exclusions, home visits, reviews,
spot checks, the household's income history

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 01:00:00

Only new tables and new nullable columns: no row of a case or an archive is rewritten, and no audit event is
touched. Each existing archive's income history starts with its net per-capita monthly income as it stood at its
last change (its annual income over twelve months and its household's size: no rigid spending was recorded before).
"""

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

HOUSEHOLD_TABLES = ('archives', 'cases')


def _household_columns() -> list[sa.Column]:
    return [sa.Column('spending_illness', sa.Numeric(precision=12, scale=2), nullable=True),
            sa.Column('spending_disability', sa.Numeric(precision=12, scale=2), nullable=True),
            sa.Column('spending_schooling', sa.Numeric(precision=12, scale=2), nullable=True),
            sa.Column('compensation', sa.Numeric(precision=12, scale=2), nullable=True),
            sa.Column('category_reason', sa.Text(), nullable=True),
            sa.Column('exclusions', sa.JSON(), nullable=True)]


def upgrade() -> None:
    # Plain ADD COLUMN on both databases (no table rebuild on SQLite: the cases' children stay as they are).
    for table in HOUSEHOLD_TABLES:
        for column in _household_columns():
            op.add_column(table, column)
        op.execute(sa.text(f"UPDATE {table} SET exclusions = '[]'"))
    op.add_column('archives', sa.Column('reviewed_at', sa.DateTime(), nullable=True))
    op.add_column('archives', sa.Column('imported_at', sa.DateTime(), nullable=True))

    op.create_table('living_standards',
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('area_code', sa.String(length=6), nullable=False),
    sa.Column('monthly', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('set_by_id', sa.Integer(), nullable=True),
    sa.Column('set_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('monthly > 0', name=op.f('ck_living_standards_monthly')),
    sa.ForeignKeyConstraint(['set_by_id'], ['accounts.id'], name=op.f('fk_living_standards_set_by_id_accounts')),
    sa.PrimaryKeyConstraint('year', 'area_code', name=op.f('pk_living_standards'))
    )
    op.create_table('home_visits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('archive_id', sa.Integer(), nullable=False),
    sa.Column('visited_on', sa.Date(), nullable=False),
    sa.Column('visitors', sa.String(length=200), nullable=False),
    sa.Column('findings', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['archive_id'], ['archives.id'], name=op.f('fk_home_visits_archive_id_archives')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['accounts.id'], name=op.f('fk_home_visits_recorded_by_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_home_visits'))
    )
    op.create_index(op.f('ix_home_visits_archive_id'), 'home_visits', ['archive_id'], unique=False)
    op.create_table('archive_incomes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('archive_id', sa.Integer(), nullable=False),
    sa.Column('since', sa.DateTime(), nullable=False),
    sa.Column('net_monthly', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.ForeignKeyConstraint(['archive_id'], ['archives.id'], name=op.f('fk_archive_incomes_archive_id_archives')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_archive_incomes'))
    )
    op.create_index('ix_archive_incomes_archive_since', 'archive_incomes', ['archive_id', 'since'], unique=False)
    op.create_table('archive_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('archive_id', sa.Integer(), nullable=False),
    sa.Column('union_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=24), nullable=False),
    sa.Column('proposed_reason', sa.String(length=24), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=False),
    sa.Column('reviewed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['archive_id'], ['archives.id'], name=op.f('fk_archive_reviews_archive_id_archives')),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['accounts.id'], name=op.f('fk_archive_reviews_reviewed_by_id_accounts')),
    sa.ForeignKeyConstraint(['union_id'], ['unions.id'], name=op.f('fk_archive_reviews_union_id_unions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_archive_reviews'))
    )
    op.create_index(op.f('ix_archive_reviews_archive_id'), 'archive_reviews', ['archive_id'], unique=False)
    op.create_table('spot_checks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('rate', sa.Numeric(precision=4, scale=2), nullable=False),
    sa.Column('seed', sa.String(length=64), nullable=False),
    sa.Column('drawn_by_id', sa.Integer(), nullable=False),
    sa.Column('drawn_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['drawn_by_id'], ['accounts.id'], name=op.f('fk_spot_checks_drawn_by_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_spot_checks')),
    sa.UniqueConstraint('year', name=op.f('uq_spot_checks_year'))
    )
    op.create_table('spot_check_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('spot_check_id', sa.Integer(), nullable=False),
    sa.Column('archive_id', sa.Integer(), nullable=False),
    sa.Column('union_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('checked_by_id', sa.Integer(), nullable=True),
    sa.Column('checked_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['archive_id'], ['archives.id'], name=op.f('fk_spot_check_items_archive_id_archives')),
    sa.ForeignKeyConstraint(['checked_by_id'], ['accounts.id'], name=op.f('fk_spot_check_items_checked_by_id_accounts')),
    sa.ForeignKeyConstraint(['spot_check_id'], ['spot_checks.id'], name=op.f('fk_spot_check_items_spot_check_id_spot_checks')),
    sa.ForeignKeyConstraint(['union_id'], ['unions.id'], name=op.f('fk_spot_check_items_union_id_unions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_spot_check_items')),
    sa.UniqueConstraint('spot_check_id', 'archive_id', name=op.f('uq_spot_check_items_spot_check_id'))
    )
    op.create_index(op.f('ix_spot_check_items_archive_id'), 'spot_check_items', ['archive_id'], unique=False)

    # Each archive's income as it stood at its last change: the start of its history.
    op.execute(sa.text(
        "INSERT INTO archive_incomes (archive_id, since, net_monthly) "
        "SELECT a.id, a.updated_at, CASE WHEN a.annual_income IS NULL THEN NULL ELSE "
        "ROUND(a.annual_income * 1.0 / 12 / (1 + (SELECT count(*) FROM archive_members m WHERE m.archive_id = a.id)), 2) "
        "END FROM archives a"))


def downgrade() -> None:
    op.drop_index(op.f('ix_spot_check_items_archive_id'), table_name='spot_check_items')
    op.drop_table('spot_check_items')
    op.drop_table('spot_checks')
    op.drop_index(op.f('ix_archive_reviews_archive_id'), table_name='archive_reviews')
    op.drop_table('archive_reviews')
    op.drop_index('ix_archive_incomes_archive_since', table_name='archive_incomes')
    op.drop_table('archive_incomes')
    op.drop_index(op.f('ix_home_visits_archive_id'), table_name='home_visits')
    op.drop_table('home_visits')
    op.drop_table('living_standards')
    # ALTER TABLE ... DROP COLUMN on both (SQLite 3.35 and later): a batch rebuild of `cases` on SQLite would
    # delete its children through their foreign keys.
    for table, column in [*((t, c.name) for t in HOUSEHOLD_TABLES for c in _household_columns()),
                          ('archives', 'imported_at'), ('archives', 'reviewed_at')]:
        op.execute(sa.text(f"ALTER TABLE {table} DROP COLUMN {column}"))
