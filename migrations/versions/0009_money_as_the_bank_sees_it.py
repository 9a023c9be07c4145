"""money as the bank and the unions see it: tariffs, payment batches and their lines, returned payments, goods and
their receipts, the proof of the public notice, the sources of money in the summaries

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 01:30:00

Only new tables and new nullable (or defaulted) columns: no row is rewritten and no audit event touched.
"""

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

MONEY = sa.Numeric(precision=12, scale=2)
CASE_COLUMNS = (('amount_reason', sa.Text()), ('goods_items', sa.Text()), ('goods_value', MONEY),
                ('returned_at', sa.DateTime()), ('return_reason', sa.String(length=200)),
                ('account_corrected_by_id', sa.Integer()), ('account_corrected_at', sa.DateTime()))
FUNDS = ('fund_upper', 'fund_own', 'fund_government', 'fund_society', 'fund_donations')


def upgrade() -> None:
    # Plain ADD COLUMN (no table rebuild on SQLite: the cases' children stay as they are).
    for name, kind in CASE_COLUMNS:
        op.add_column('cases', sa.Column(name, kind, nullable=True))
    op.add_column('campaigns', sa.Column('goods_in_budget', sa.Boolean(), nullable=False, server_default=sa.false()))
    for name in FUNDS:
        op.add_column('summaries', sa.Column(name, MONEY, nullable=True))
    # A summary's file may now be the statistics workbook, whose type's name is 65 characters long.
    with op.batch_alter_table('summaries', schema=None) as batch_op:
        batch_op.alter_column('file_type', existing_type=sa.String(length=64), type_=sa.String(length=100))

    op.create_table('tariffs',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('worker_group', sa.String(length=24), nullable=False),
    sa.Column('amount', MONEY, nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_tariffs_amount')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_tariffs_campaign_id_campaigns')),
    sa.PrimaryKeyConstraint('campaign_id', 'category', 'worker_group', name=op.f('pk_tariffs'))
    )
    op.create_table('payment_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('exported_at', sa.DateTime(), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('result_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['accounts.id'], name=op.f('fk_payment_batches_created_by_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_batches')),
    sa.UniqueConstraint('reference', name=op.f('uq_payment_batches_reference'))
    )
    op.create_table('payment_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('bank_account', sa.String(length=19), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('amount', MONEY, nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['batch_id'], ['payment_batches.id'], name=op.f('fk_payment_lines_batch_id_payment_batches')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_payment_lines_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_lines'))
    )
    op.create_index(op.f('ix_payment_lines_batch_id'), 'payment_lines', ['batch_id'], unique=False)
    op.create_index(op.f('ix_payment_lines_case_id'), 'payment_lines', ['case_id'], unique=False)
    op.create_table('goods_receipts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('handed_by', sa.String(length=50), nullable=False),
    sa.Column('received_by', sa.String(length=50), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('document_id', sa.String(length=32), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_goods_receipts_case_id_cases')),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_goods_receipts_document_id_documents')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['accounts.id'], name=op.f('fk_goods_receipts_recorded_by_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_goods_receipts')),
    sa.UniqueConstraint('case_id', name=op.f('uq_goods_receipts_case_id'))
    )
    op.create_table('notice_postings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('union_id', sa.Integer(), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=False),
    sa.Column('posted_on', sa.Date(), nullable=False),
    sa.Column('file_id', sa.String(length=32), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('file_type', sa.String(length=64), nullable=False),
    sa.Column('file_sha256', sa.String(length=64), nullable=False),
    sa.Column('file_size', sa.Integer(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_notice_postings_campaign_id_campaigns')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['accounts.id'], name=op.f('fk_notice_postings_recorded_by_id_accounts')),
    sa.ForeignKeyConstraint(['union_id'], ['unions.id'], name=op.f('fk_notice_postings_union_id_unions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notice_postings'))
    )
    op.create_index('ix_notice_postings_campaign_union', 'notice_postings', ['campaign_id', 'union_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_notice_postings_campaign_union', table_name='notice_postings')
    op.drop_table('notice_postings')
    op.drop_table('goods_receipts')
    op.drop_index(op.f('ix_payment_lines_case_id'), table_name='payment_lines')
    op.drop_index(op.f('ix_payment_lines_batch_id'), table_name='payment_lines')
    op.drop_table('payment_lines')
    op.drop_table('payment_batches')
    op.drop_table('tariffs')
    with op.batch_alter_table('summaries', schema=None) as batch_op:
        batch_op.alter_column('file_type', existing_type=sa.String(length=100), type_=sa.String(length=64))
    # ALTER TABLE ... DROP COLUMN on both (SQLite 3.35 and later), as 0008 does: no rebuild of `cases`.
    for table, column in [*(('cases', name) for name, _ in CASE_COLUMNS), ('campaigns', 'goods_in_budget'),
                          *(('summaries', name) for name in FUNDS)]:
        op.execute(sa.text(f"ALTER TABLE {table} DROP COLUMN {column}"))
