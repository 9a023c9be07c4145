"""household archives: every case becomes an application of its household's archive

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 20:00:11.841794

The cases are grouped into households by their ID numbers: two cases naming one number (as applicant or as member)
are one household, so a member who applied in another winter joins the same archive. Each household's archive takes
the data of its latest case and every member named in any of them; it is 在档 when one of its cases was approved by
the district, 建档中 otherwise. The causes are read as the national code list. No audit event is changed: the
archive's history is read through its cases.

The downgrade drops the archives; an event written after the upgrade names its archive and was hashed with it, so
after a downgrade `songnuan audit verify` names the first such event: downgrade only a copy, to look at it.
"""
import logging
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

log = logging.getLogger("alembic.runtime.migration")

# The first code list's causes, as their national codes (workflows/vocab.py OLD_CAUSES, copied: a migration must
# not change when the application does).
OLD_CAUSES = {"illness": "serious_illness", "disability": "no_work_capacity", "disaster": "natural_disaster",
              "unemployment": "laid_off"}
COMMITTED = ("district_approved", "disbursed")
HOUSEHOLD = ("applicant_name", "gender", "id_number", "phone", "employer", "worker_group", "category",
             "primary_cause", "annual_income", "housing", "bank_account")
MEMBER = ("name", "relation", "id_number", "monthly_income", "health", "occupation")
BATCH = 5000
# The tables whose rows point at a case (revision 0006).
CASE_CHILDREN = ("members", "documents", "objections", "notifications")


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('archives',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('union_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('status_reason', sa.String(length=24), nullable=True),
    sa.Column('merged_into_id', sa.Integer(), nullable=True),
    sa.Column('archive_type', sa.String(length=24), nullable=True),
    sa.Column('model_worker', sa.String(length=16), nullable=True),
    sa.Column('ethnicity', sa.String(length=20), nullable=True),
    sa.Column('political', sa.String(length=24), nullable=True),
    sa.Column('marital', sa.String(length=16), nullable=True),
    sa.Column('hukou', sa.String(length=24), nullable=True),
    sa.Column('hukou_area', sa.String(length=6), nullable=True),
    sa.Column('work_status', sa.String(length=16), nullable=True),
    sa.Column('employer_nature', sa.String(length=24), nullable=True),
    sa.Column('housing_type', sa.String(length=16), nullable=True),
    sa.Column('floor_area', sa.Numeric(precision=8, scale=2), nullable=True),
    sa.Column('insurance', sa.String(length=16), nullable=True),
    sa.Column('single_parent', sa.Boolean(), nullable=False),
    sa.Column('zero_employment', sa.Boolean(), nullable=False),
    sa.Column('bank_name', sa.String(length=50), nullable=True),
    sa.Column('bank_branch', sa.String(length=100), nullable=True),
    sa.Column('national_number', sa.String(length=32), nullable=True),
    sa.Column('last_helped_campaign_id', sa.Integer(), nullable=True),
    sa.Column('last_helped_at', sa.DateTime(), nullable=True),
    sa.Column('reactivated_at', sa.DateTime(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('applicant_name', sa.String(length=50), nullable=False),
    sa.Column('gender', sa.String(length=8), nullable=True),
    sa.Column('id_number', sa.String(length=18), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('employer', sa.String(length=100), nullable=True),
    sa.Column('worker_group', sa.String(length=24), nullable=True),
    sa.Column('category', sa.String(length=16), nullable=True),
    sa.Column('primary_cause', sa.String(length=16), nullable=True),
    sa.Column('secondary_causes', sa.JSON(), nullable=False),
    sa.Column('annual_income', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('housing', sa.String(length=200), nullable=True),
    sa.Column('bank_account', sa.String(length=19), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['accounts.id'], name=op.f('fk_archives_created_by_id_accounts')),
    sa.ForeignKeyConstraint(['last_helped_campaign_id'], ['campaigns.id'], name=op.f('fk_archives_last_helped_campaign_id_campaigns')),
    sa.ForeignKeyConstraint(['merged_into_id'], ['archives.id'], name=op.f('fk_archives_merged_into_id_archives')),
    sa.ForeignKeyConstraint(['union_id'], ['unions.id'], name=op.f('fk_archives_union_id_unions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_archives'))
    )
    with op.batch_alter_table('archives', schema=None) as batch_op:
        batch_op.create_index('ix_archives_id_number', ['id_number'], unique=False)
        batch_op.create_index('ix_archives_union_status', ['union_id', 'status'], unique=False)

    op.create_table('archive_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('archive_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('relation', sa.String(length=20), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=True),
    sa.Column('monthly_income', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('health', sa.String(length=100), nullable=True),
    sa.Column('occupation', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['archive_id'], ['archives.id'], name=op.f('fk_archive_members_archive_id_archives'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_archive_members'))
    )
    with op.batch_alter_table('archive_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_archive_members_archive_id'), ['archive_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_archive_members_id_number'), ['id_number'], unique=False)

    op.create_table('archive_numbers',
    sa.Column('id_number', sa.String(length=18), nullable=False),
    sa.Column('archive_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['archive_id'], ['archives.id'], name=op.f('fk_archive_numbers_archive_id_archives')),
    sa.PrimaryKeyConstraint('id_number', name=op.f('pk_archive_numbers'))
    )
    with op.batch_alter_table('archive_numbers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_archive_numbers_archive_id'), ['archive_id'], unique=False)

    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('archive_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_audit_events_archive_id'), ['archive_id'], unique=False)

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('archive_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('application_kind', sa.String(length=16), nullable=False,
                                      server_default='new'))
        batch_op.add_column(sa.Column('secondary_causes', sa.JSON(), nullable=True))

    backfill(op.get_bind())

    with _children_set_aside(op.get_bind()), op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.alter_column('archive_id', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('secondary_causes', existing_type=sa.JSON(), nullable=False)
        # The default only filled the existing rows; the model has none (the application always sets the kind).
        batch_op.alter_column('application_kind', existing_type=sa.String(length=16), existing_nullable=False,
                              server_default=None)
        batch_op.create_index(batch_op.f('ix_cases_archive_id'), ['archive_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_cases_archive_id_archives'), 'archives', ['archive_id'], ['id'])
        batch_op.drop_column('secondary_cause')


@contextmanager
def _children_set_aside(bind):
    """On SQLite the cases table is altered by rebuilding it (batch mode: a copy, DROP TABLE cases, a rename). The
    application's connections enforce foreign keys, and PRAGMA foreign_keys cannot be switched off inside the
    upgrade's transaction; so DROP TABLE cases would first delete every case, which cascades to the members (lost)
    and fails on the documents, objections and notifications. Their rows are set aside in temporary tables while
    cases is rebuilt and put back after, ids unchanged; nothing else is touched. PostgreSQL alters in place."""
    if bind.dialect.name != 'sqlite':
        yield
        return
    for name in CASE_CHILDREN:
        bind.exec_driver_sql(f'CREATE TEMP TABLE "_0007_{name}" AS SELECT * FROM "{name}"')
        bind.exec_driver_sql(f'DELETE FROM "{name}"')
    yield
    for name in CASE_CHILDREN:
        bind.exec_driver_sql(f'INSERT INTO "{name}" SELECT * FROM "_0007_{name}"')
        bind.exec_driver_sql(f'DROP TABLE "_0007_{name}"')


def backfill(bind) -> None:
    cases_t = sa.table('cases', *(sa.column(n) for n in (
        'id', 'union_id', 'campaign_id', 'state', 'created_by_id', 'created_at', 'updated_at', 'secondary_cause',
        *HOUSEHOLD)))
    members_t = sa.table('members', *(sa.column(n) for n in ('case_id', 'position', *MEMBER)))
    cases = [dict(r._mapping) for r in bind.execute(sa.select(cases_t).order_by(cases_t.c.created_at, cases_t.c.id))]
    if not cases:
        return
    members: dict[int, list[dict]] = {}
    for r in bind.execute(sa.select(members_t).order_by(members_t.c.case_id, members_t.c.position)):
        members.setdefault(r.case_id, []).append(dict(r._mapping))

    # When each case was approved by the district, from its event (its last change otherwise).
    events_t = sa.table('audit_events', sa.column('case_id'), sa.column('action'), sa.column('occurred_at'))
    approved = dict(bind.execute(sa.select(events_t.c.case_id, sa.func.max(events_t.c.occurred_at))
                                 .where(events_t.c.action == 'district_approve').group_by(events_t.c.case_id)).all())

    # Households: the cases joined by a shared ID number (union-find over the numbers).
    parent = {case['id']: case['id'] for case in cases}

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    holder: dict[str, int] = {}
    for case in cases:
        for number in [case['id_number'], *(m['id_number'] for m in members.get(case['id'], []))]:
            if number:
                if number in holder:
                    parent[find(case['id'])] = find(holder[number])
                else:
                    holder[number] = case['id']
    households: dict[int, list[dict]] = {}
    for case in cases:  # in the order they were created
        households.setdefault(find(case['id']), []).append(case)

    archives, archive_members, numbers, updates = [], [], [], []
    for archive_id, group in enumerate(households.values(), 1):
        latest = group[-1]
        helped = [c for c in group if c['state'] in COMMITTED]
        archive = {n: latest[n] for n in HOUSEHOLD}
        archive['primary_cause'] = OLD_CAUSES.get(latest['primary_cause'], latest['primary_cause'])
        archive['secondary_causes'] = _causes(latest)
        archive.update(id=archive_id, version=1, union_id=latest['union_id'],
                       status='active' if helped else 'pending', single_parent=False, zero_employment=False,
                       created_by_id=group[0]['created_by_id'], created_at=group[0]['created_at'],
                       updated_at=latest['updated_at'],
                       last_helped_campaign_id=helped[-1]['campaign_id'] if helped else None,
                       last_helped_at=approved.get(helped[-1]['id'], helped[-1]['updated_at']) if helped else None)
        archives.append(archive)
        # Its members: those of the latest case, then every other person named by number in the household's
        # earlier cases (their applicants too); a person without a number is only known by the latest case.
        seen = {latest['id_number']} if latest['id_number'] else set()
        people = []
        for person in members.get(latest['id'], []):
            if not person['id_number'] or person['id_number'] not in seen:
                people.append(person)
                seen |= {person['id_number']} - {None}
        for case in reversed(group[:-1]):
            head = {'name': case['applicant_name'], 'relation': '家庭成员', 'id_number': case['id_number'],
                    'monthly_income': None, 'health': None, 'occupation': None}
            for person in [*members.get(case['id'], []), head]:
                if person['id_number'] and person['id_number'] not in seen:
                    people.append(person)
                    seen.add(person['id_number'])
        archive_members += [{'archive_id': archive_id, 'position': i, **{n: p[n] for n in MEMBER}}
                            for i, p in enumerate(people)]
        numbers += [{'id_number': n, 'archive_id': archive_id} for n in sorted(seen)]
        helped_before = False
        for case in group:
            updates.append({'case_id': case['id'], 'archive_id': archive_id,
                            'kind': 'existing' if helped_before else 'new',
                            'primary': OLD_CAUSES.get(case['primary_cause'], case['primary_cause']),
                            'secondary': _causes(case)})
            helped_before = helped_before or case['state'] in COMMITTED

    # What an operator should look at afterwards: households joined across cases, and two applications of one
    # household in one campaign (the campaign's duplicate rule then holds the later one at `document`).
    joined = [g for g in households.values() if len(g) > 1]
    doubles = sum(len(g) - len({c['campaign_id'] for c in g}) for g in joined)
    log.info("0007: %d cases into %d archives; %d households span several cases (the largest %d); "
             "%d applications share a campaign with another of their household",
             len(cases), len(archives), len(joined), max((len(g) for g in joined), default=1), doubles)

    archives_t = sa.table('archives', *(sa.column(n) for n in archives[0]),
                          sa.column('secondary_causes', sa.JSON()))
    for i in range(0, len(archives), BATCH):
        bind.execute(sa.insert(archives_t), archives[i:i + BATCH])
    for rows, table in ((archive_members, sa.table('archive_members', *(sa.column(n) for n in (
            'archive_id', 'position', *MEMBER)))), (numbers, sa.table('archive_numbers', sa.column('id_number'),
                                                                      sa.column('archive_id')))):
        for i in range(0, len(rows), BATCH):
            bind.execute(sa.insert(table), rows[i:i + BATCH])
    target = sa.table('cases', sa.column('id'), sa.column('archive_id'), sa.column('application_kind'),
                      sa.column('primary_cause'), sa.column('secondary_causes', sa.JSON()))
    change = (sa.update(target).where(target.c.id == sa.bindparam('case_id'))
              .values(archive_id=sa.bindparam('archive_id'), application_kind=sa.bindparam('kind'),
                      primary_cause=sa.bindparam('primary'),
                      secondary_causes=sa.bindparam('secondary', type_=sa.JSON())))
    for i in range(0, len(updates), BATCH):
        bind.execute(change, updates[i:i + BATCH])
    if bind.dialect.name == 'postgresql':
        bind.execute(sa.text("SELECT setval(pg_get_serial_sequence('archives', 'id'), (SELECT max(id) FROM archives))"))


def _causes(case: dict) -> list[str]:
    code = case['secondary_cause']
    return [OLD_CAUSES.get(code, code)] if code else []


def _first_causes(bind) -> None:
    """The downgrade's causes: back to the first code list where they came from it, one secondary cause."""
    first = {national: code for code, national in OLD_CAUSES.items()}
    cases_t = sa.table('cases', sa.column('id'), sa.column('primary_cause'), sa.column('secondary_cause'),
                       sa.column('secondary_causes', sa.JSON()))
    rows = [{'case_id': r.id, 'primary': first.get(r.primary_cause, r.primary_cause),
             'secondary': first.get(r.secondary_causes[0], r.secondary_causes[0]) if r.secondary_causes else None}
            for r in bind.execute(sa.select(cases_t.c.id, cases_t.c.primary_cause, cases_t.c.secondary_causes))]
    change = (sa.update(cases_t).where(cases_t.c.id == sa.bindparam('case_id'))
              .values(primary_cause=sa.bindparam('primary'), secondary_cause=sa.bindparam('secondary')))
    for i in range(0, len(rows), BATCH):
        bind.execute(change, rows[i:i + BATCH])


def downgrade() -> None:
    # The archives are dropped. The cases take back the first code list's causes where their national code came
    # from one, and their first secondary cause; the other national codes stay. (Events written since the upgrade
    # that name an archive no longer verify once audit_events.archive_id is gone.)
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('secondary_cause', sa.VARCHAR(length=16), nullable=True))
    _first_causes(op.get_bind())
    with _children_set_aside(op.get_bind()), op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_cases_archive_id_archives'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_cases_archive_id'))
        batch_op.drop_column('secondary_causes')
        batch_op.drop_column('application_kind')
        batch_op.drop_column('archive_id')

    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_archive_id'))
        batch_op.drop_column('archive_id')

    with op.batch_alter_table('archive_numbers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_archive_numbers_archive_id'))

    op.drop_table('archive_numbers')
    with op.batch_alter_table('archive_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_archive_members_id_number'))
        batch_op.drop_index(batch_op.f('ix_archive_members_archive_id'))

    op.drop_table('archive_members')
    with op.batch_alter_table('archives', schema=None) as batch_op:
        batch_op.drop_index('ix_archives_union_status')
        batch_op.drop_index('ix_archives_id_number')

    op.drop_table('archives')
