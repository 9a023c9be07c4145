"""name search pieces: the lists find part of a name, or an ID number's last four, through an index

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 22:00:00

Adds table name_grams (workflows/infra/search.py) and fills it from the cases, archives and archive members
already there, set-based: one- and two-character pieces of every name, "#" and the last four characters of every
ID mask. Nothing else is written: no row changes and no audit event is added (the pieces are an index the
application keeps, not a record). At a province's size (1,000,000 archives, 1,200,000 cases) the fill writes
about 20 million small rows: run it outside the campaign's last days (docs/deploy.md).
"""

import sqlalchemy as sa
from alembic import op

from workflows.infra import search

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'name_grams',
        sa.Column('kind', sa.String(length=1), nullable=False),
        sa.Column('gram', sa.String(length=5), nullable=False),
        sa.Column('owner_id', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('kind', 'gram', 'owner_id', name=op.f('pk_name_grams')),
    )
    search.rebuild(op.get_bind())
    # After the fill: one index built over the rows, not kept row by row while they go in.
    with op.batch_alter_table('name_grams', schema=None) as batch_op:
        batch_op.create_index('ix_name_grams_owner', ['kind', 'owner_id'], unique=False)
    op.execute('ANALYZE name_grams')


def downgrade() -> None:
    with op.batch_alter_table('name_grams', schema=None) as batch_op:
        batch_op.drop_index('ix_name_grams_owner')
    op.drop_table('name_grams')
