"""list indexes: the inbox, the case list and the archive list read a page in index order at a province's size

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 17:10:00

Indexes only (and the planners' statistics of the two tables): no row is rewritten and no audit event is touched.
- ix_cases_state_campaign_updated (state, campaign_id, updated_at, id): a district role's inbox, one branch per
  (campaign, state) walked in (updated_at, id) order and stopped at the page's size (reads/worklists.py).
- ix_cases_union_state_campaign_updated (union_id, state, campaign_id, updated_at, id): the same for a union's
  people; it replaces ix_cases_union_state, its prefix, so that writes keep paying for one index, not two.
- ix_archives_updated (updated_at, id) and ix_archives_union_updated (union_id, updated_at, id): the archive list,
  the most recently changed first, keyset pages.
"""

from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_state_campaign_updated', ['state', 'campaign_id', 'updated_at', 'id'],
                              unique=False)
        batch_op.create_index('ix_cases_union_state_campaign_updated',
                              ['union_id', 'state', 'campaign_id', 'updated_at', 'id'], unique=False)
        batch_op.drop_index('ix_cases_union_state')
    with op.batch_alter_table('archives', schema=None) as batch_op:
        batch_op.create_index('ix_archives_updated', ['updated_at', 'id'], unique=False)
        batch_op.create_index('ix_archives_union_updated', ['union_id', 'updated_at', 'id'], unique=False)
    # The planners' statistics of the new indexes: without them SQLite takes the state index for the district's
    # case list (IN over most states) and sorts half the table, where a walk of the key backwards stops at a page.
    op.execute('ANALYZE cases')
    op.execute('ANALYZE archives')


def downgrade() -> None:
    with op.batch_alter_table('archives', schema=None) as batch_op:
        batch_op.drop_index('ix_archives_union_updated')
        batch_op.drop_index('ix_archives_updated')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_union_state', ['union_id', 'state'], unique=False)
        batch_op.drop_index('ix_cases_union_state_campaign_updated')
        batch_op.drop_index('ix_cases_state_campaign_updated')
