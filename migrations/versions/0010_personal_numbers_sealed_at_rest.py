"""personal numbers sealed at rest: ID numbers and bank accounts are stored sealed (AES-GCM), with a keyed digest for
equality lookups and the mask the screens show; archive_numbers is keyed by the digest; an index for the daily
upload quota

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 04:00:00

Every stored number is re-written sealed, in batches; no audit event is touched (the trail only ever held masks).
The keys are those the application uses (workflows/infra/sealing.py): set SONGNUAN_DATA_KEYS and SONGNUAN_INDEX_KEY
before upgrading, or the ones generated into instance/ are used.
"""

import sqlalchemy as sa
from alembic import op

from workflows.identity import mask_account, mask_id
from workflows.infra.sealing import keyring

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

SEALED = sa.String(length=96)
# The plain lengths: of a number as it was stored before, and of its mask.
LENGTH = {'id_number': 18, 'bank_account': 19, 'id_masked': 18, 'bank_masked': 19}
BATCH = 5000
# table: (number column, digest column or None, mask column, mask), for each sealed number.
NUMBERS = {
    'archives': [('id_number', 'id_digest', 'id_masked', mask_id),
                 ('bank_account', 'bank_digest', 'bank_masked', mask_account)],
    'cases': [('id_number', 'id_digest', 'id_masked', mask_id),
              ('bank_account', 'bank_digest', 'bank_masked', mask_account)],
    'archive_members': [('id_number', 'id_digest', 'id_masked', mask_id)],
    'members': [('id_number', 'id_digest', 'id_masked', mask_id)],
    'payment_lines': [('bank_account', None, 'bank_masked', mask_account)],
}
# The old indexes on the plain numbers, and the new ones on their digests.
OLD_INDEXES = [('ix_archives_id_number', 'archives'), ('ix_cases_id_number', 'cases'),
               ('ix_archive_members_id_number', 'archive_members'), ('ix_members_id_number', 'members')]
NEW_INDEXES = [('ix_archives_id_digest', 'archives', 'id_digest'), ('ix_cases_id_digest', 'cases', 'id_digest'),
               ('ix_cases_bank_digest', 'cases', 'bank_digest'),
               ('ix_archive_members_id_digest', 'archive_members', 'id_digest'),
               ('ix_members_id_digest', 'members', 'id_digest')]


def _rewrite(table: str, column: str, convert, extra=lambda value: {}) -> None:
    """Every non-null `column` of `table`, through `convert`, into `column`_new with the `extra` columns it implies,
    in batches."""
    connection = op.get_bind()
    rows = connection.execute(sa.text(f"SELECT id, {column} FROM {table} WHERE {column} IS NOT NULL ORDER BY id"))
    columns = None
    while batch := rows.fetchmany(BATCH):
        values = [{'id': row[0], f'{column}_new': convert(row[1]), **extra(row[1])} for row in batch]
        if columns is None:
            columns = ", ".join(f"{name} = :{name}" for name in values[0] if name != 'id')
        connection.execute(sa.text(f"UPDATE {table} SET {columns} WHERE id = :id"), values)


def _replace(table: str, column: str, kind, convert, extra=lambda value: {}) -> None:
    """`column` re-written through `convert` as a new column of type `kind`: added, filled, and renamed over the
    old one, so that SQLite changes the type without rebuilding the table (the cases' children stay as they are).
    payment_lines, whose account is required and which nothing refers to, is rebuilt in batch mode instead."""
    if table == 'payment_lines':
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column(f'{column}_new', kind))
        _rewrite(table, column, convert, extra)
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column(column)
            batch_op.alter_column(f'{column}_new', new_column_name=column, existing_type=kind, nullable=False)
        return
    op.add_column(table, sa.Column(f'{column}_new', kind))
    _rewrite(table, column, convert, extra)
    op.execute(sa.text(f"ALTER TABLE {table} DROP COLUMN {column}"))
    op.execute(sa.text(f"ALTER TABLE {table} RENAME COLUMN {column}_new TO {column}"))


def _archive_numbers(key: str, kind, rows: list[dict]) -> None:
    """archive_numbers made again, keyed by `key` (the number, or its digest), holding `rows`."""
    op.drop_index('ix_archive_numbers_archive_id', table_name='archive_numbers')
    op.drop_table('archive_numbers')
    numbers = op.create_table(
        'archive_numbers',
        sa.Column(key, kind, nullable=False),
        sa.Column('archive_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['archive_id'], ['archives.id'], name=op.f('fk_archive_numbers_archive_id_archives')),
        sa.PrimaryKeyConstraint(key, name=op.f('pk_archive_numbers')))
    op.create_index('ix_archive_numbers_archive_id', 'archive_numbers', ['archive_id'])
    if rows:
        op.bulk_insert(numbers, rows)


def upgrade() -> None:
    ring = keyring()
    for name, table in OLD_INDEXES:
        op.drop_index(name, table_name=table)
    for table, numbers in NUMBERS.items():
        for column, digest, mask, masker in numbers:
            for extra in (digest, mask):
                if extra:
                    op.add_column(table, sa.Column(extra, sa.String(length=64 if extra == digest else LENGTH[extra])))
            _replace(table, column, SEALED, ring.seal, lambda plain, digest=digest, mask=mask, masker=masker: {
                mask: masker(plain), **({digest: ring.digest(plain)} if digest else {})})
    for name, table, column in NEW_INDEXES:
        op.create_index(name, table, [column])
    op.create_index('ix_documents_uploaded_by_at', 'documents', ['uploaded_by_id', 'uploaded_at'])
    if op.get_bind().dialect.name == 'postgresql':
        # PostgreSQL's DROP COLUMN only hides the old plain numbers: they stay in every row's bytes on disk (and
        # the updates left dead row versions). A type change with a USING expression rewrites the table into new
        # files, without them; the old files go at commit. (SQLite zeroes what the updates free: secure_delete.)
        for table, numbers in NUMBERS.items():
            mask = numbers[0][2]
            op.execute(sa.text(f"ALTER TABLE {table} ALTER COLUMN {mask} TYPE VARCHAR({LENGTH[mask]}) "
                               f"USING {mask} || ''"))

    # One household, one archive: the held numbers become held digests.
    held = op.get_bind().execute(sa.text("SELECT id_number, archive_id FROM archive_numbers")).all()
    _archive_numbers('id_digest', sa.String(length=64),
                     [{'id_digest': ring.digest(number), 'archive_id': archive} for number, archive in held])

def downgrade() -> None:
    ring = keyring()
    op.drop_index('ix_documents_uploaded_by_at', table_name='documents')
    connection = op.get_bind()
    # The held digests back to numbers: each is the digest of a number of its own archive.
    plain_of = {}
    for table, key in (('archives', 'id'), ('archive_members', 'archive_id')):
        for archive, sealed in connection.execute(
                sa.text(f"SELECT {key}, id_number FROM {table} WHERE id_number IS NOT NULL")):
            number = ring.open(sealed)
            plain_of[(archive, ring.digest(number))] = number
    held = connection.execute(sa.text("SELECT id_digest, archive_id FROM archive_numbers")).all()
    _archive_numbers('id_number', sa.String(length=LENGTH['id_number']),
                     [{'id_number': plain_of[(archive, digest)], 'archive_id': archive} for digest, archive in held
                      if (archive, digest) in plain_of])
    for name, table, _ in NEW_INDEXES:
        op.drop_index(name, table_name=table)
    for table, numbers_ in NUMBERS.items():
        for column, digest, mask, _ in numbers_:
            _replace(table, column, sa.String(length=LENGTH[column]), ring.open)
            for extra in (digest, mask):
                if extra:
                    op.execute(sa.text(f"ALTER TABLE {table} DROP COLUMN {extra}"))
    for name, table in OLD_INDEXES:
        op.create_index(name, table, ['id_number'])
