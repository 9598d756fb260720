"""The Ledger facade: accounts, transfers in durable batches, balances, statements, expiry, check."""

from __future__ import annotations

import contextlib
import functools
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from ledger.accounts import SYSTEM_FLAGS, SYSTEM_KINDS, SYSTEM_OWNER, WALLET, Account, Balance
from ledger.check import CheckReport, run_check
from ledger.codes import ResultCode
from ledger.db import READ_ONLY, HotSql, as_engine, is_retryable, is_sqlite_locked, writer_lock
from ledger.errors import AccountConflict, AccountNotFound, LedgerBusy, UnknownAccountKind
from ledger.flags import AccountFlag, TransferFlag, TransferStatus
from ledger.money import exponent
from ledger.rules import (
    AccountState,
    Batch,
    Outcome,
    Row,
    account_from_db,
    accounts_needed,
    row_from_db,
)
from ledger.tables import accounts as accounts_t
from ledger.tables import head as head_t
from ledger.tables import transfers as transfers_t
from ledger.transfers import StatementLine, Transfer, TransferResult, TransferSpec

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_ATTEMPTS = 12
IN_CHUNK = 500  # ids per IN (...) list


def to_us(dt: datetime) -> int:
    """Microseconds since the epoch of an aware datetime (naive ones are taken as UTC)."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return (dt - EPOCH) // timedelta(microseconds=1)


@functools.lru_cache(maxsize=4096)
def from_us(us: int) -> datetime:
    """The aware UTC datetime of epoch microseconds."""
    return EPOCH + timedelta(microseconds=us)


_FLAGS = {i: TransferFlag(i) for i in range(64)}
_STATUS = {s.value: s for s in TransferStatus}


def _utc_now() -> datetime:
    return datetime.now(UTC)


def to_transfer(r: Row) -> Transfer:
    """The public, frozen view of a row."""
    flags = _FLAGS.get(r.flags)
    return Transfer(
        r.id,
        r.debit_account_id,
        r.credit_account_id,
        r.amount,
        TransferFlag(r.flags) if flags is None else flags,
        r.pending_id,
        r.timeout_seconds,
        r.code,
        r.memo,
        r.reverses_id,
        r.seq,
        from_us(r.created_us),
        _STATUS[r.status],
        r.hash,
        r.asset,
        None if r.expires_us is None else from_us(r.expires_us),
    )


def _account(row: Any) -> Account:
    return Account(
        id=row.id,
        owner=row.owner,
        asset=row.asset,
        kind=row.kind,
        flags=AccountFlag(row.flags),
        label=row.label,
    )


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), IN_CHUNK):
        yield items[i : i + IN_CHUNK]


class Ledger:
    """A double-entry book on SQLite or PostgreSQL with TigerBeetle's transfer semantics.

    Call `ledger.migrate(url)` once before use. `clock` returns aware UTC datetimes; it decides
    creation times and when holds expire.
    """

    def __init__(
        self, url_or_engine: str | sa.Engine, clock: Callable[[], datetime] | None = None
    ) -> None:
        self.engine, self._owns_engine = as_engine(url_or_engine)
        self.clock: Callable[[], datetime] = clock or _utc_now
        self._pg = self.engine.dialect.name == "postgresql"
        self._sql = HotSql(self.engine.dialect.name)
        self._lock = writer_lock(self.engine) or threading.RLock()
        self._writer: Any = None

    def close(self) -> None:
        """Release the writer's connection, and the engine if the ledger made it."""
        with self._lock:
            if self._writer is not None:
                with contextlib.suppress(Exception):
                    self._writer.close()
                self._writer = None
        if self._owns_engine:
            self.engine.dispose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def now_us(self) -> int:
        """The clock, in epoch microseconds."""
        return to_us(self.clock())

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        with self._lock:
            yield

    def _reading(self) -> sa.Connection:
        conn = self.engine.connect()
        if self._pg:
            return conn
        return conn.execution_options(**{READ_ONLY: True})

    def _retrying(self, attempt: Callable[[], Any]) -> Any:
        delay = 0.002
        for n in range(MAX_ATTEMPTS):
            try:
                with self._writing():
                    return attempt()
            except Exception as exc:
                if is_sqlite_locked(exc):
                    raise LedgerBusy(
                        "another connection held the SQLite write lock for the whole busy timeout "
                        "(a transaction left open around a ledger call?)"
                    ) from exc
                if not is_retryable(exc):
                    raise
                if n == MAX_ATTEMPTS - 1:
                    raise LedgerBusy(f"gave up after {MAX_ATTEMPTS} attempts: {exc}") from exc
                time.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 0.5)
        raise AssertionError("unreachable")

    # -- accounts -------------------------------------------------------------------------------

    def open_account(
        self,
        owner: str,
        asset: str,
        kind: str = WALLET,
        flags: AccountFlag | None = None,
        label: str | None = None,
    ) -> Account:
        """The account of `owner` for `asset` and `kind`, made if missing (idempotent). A wallet's
        debits must not exceed its credits unless `flags` says otherwise. A label belongs to the
        owner: giving one relabels all their accounts, and a new account takes the owner's."""
        exponent(asset)  # raises UnknownAsset
        if flags is None:
            flags = AccountFlag.DEBITS_MUST_NOT_EXCEED_CREDITS if kind == WALLET else AccountFlag.NONE
        want = AccountFlag(int(flags))
        found = self.find_account(owner, asset, kind)
        if found is not None and found.flags == want and (label is None or found.label == label):
            return found  # the common case: no write transaction at all

        def attempt() -> Account:
            a = accounts_t
            with self.engine.begin() as conn:
                row = conn.execute(
                    sa.select(a).where(a.c.owner == owner, a.c.asset == asset, a.c.kind == kind)
                ).first()
                if label is not None:
                    conn.execute(
                        a.update().where(a.c.owner == owner, a.c.label.is_distinct_from(label)).values(label=label)
                    )
                if row is not None:
                    found = _account(row)
                    if found.flags != want:
                        raise AccountConflict(
                            f"{owner}/{asset}/{kind} exists with flags {found.flags!r}, not {want!r}"
                        )
                    return Account(found.id, owner, asset, kind, found.flags, label or found.label)
                new_label = label
                if new_label is None:
                    new_label = conn.execute(
                        sa.select(a.c.label).where(a.c.owner == owner, a.c.label.is_not(None)).limit(1)
                    ).scalar()
                new_id = conn.execute(
                    a.insert()
                    .values(
                        owner=owner, asset=asset, kind=kind, flags=int(want), label=new_label,
                        debits_posted=0, credits_posted=0, debits_pending=0, credits_pending=0,
                        version=0, created_us=self.now_us(),
                    )  # fmt: skip
                    .returning(a.c.id)
                ).scalar_one()
                return Account(int(new_id), owner, asset, kind, want, new_label)

        result: Account = self._retrying(attempt)
        return result

    def system_account(self, kind: str, asset: str) -> Account:
        """The system's account of `kind` for `asset`; kinds: sandbox_funding, payouts, fees,
        broker_omnibus, fx_liquidity, escrow. Escrow, payouts and fees must not go negative
        (`SYSTEM_FLAGS`); the others have no limit."""
        if kind not in SYSTEM_KINDS:
            raise UnknownAccountKind(f"unknown system account kind {kind!r}: one of {sorted(SYSTEM_KINDS)}")
        return self.open_account(SYSTEM_OWNER, asset, kind, SYSTEM_FLAGS.get(kind, AccountFlag.NONE))

    def set_label(self, owner: str, label: str) -> None:
        """Set the display label (e.g. `@alice`) of every account of `owner`."""

        def attempt() -> None:
            with self.engine.begin() as conn:
                conn.execute(accounts_t.update().where(accounts_t.c.owner == owner).values(label=label))

        self._retrying(attempt)

    def get_account(self, account_id: int) -> Account | None:
        """The account with that id, or None."""
        with self._reading() as conn:
            row = conn.execute(sa.select(accounts_t).where(accounts_t.c.id == account_id)).first()
        return None if row is None else _account(row)

    def find_account(self, owner: str, asset: str, kind: str = WALLET) -> Account | None:
        """The account of `owner` for `asset` and `kind`, or None."""
        with self._reading() as conn:
            row = conn.execute(
                sa.select(accounts_t).where(
                    accounts_t.c.owner == owner, accounts_t.c.asset == asset, accounts_t.c.kind == kind
                )
            ).first()
        return None if row is None else _account(row)

    def accounts(self, owner: str | None = None) -> list[Account]:
        """Every account (of `owner`, if given), by id."""
        q = sa.select(accounts_t).order_by(accounts_t.c.id)
        if owner is not None:
            q = q.where(accounts_t.c.owner == owner)
        with self._reading() as conn:
            return [_account(r) for r in conn.execute(q)]

    # -- balances and statements ---------------------------------------------------------------

    def balance(self, account_id: int) -> Balance:
        """The account's counters now (holds whose time is up are expired first)."""
        return self.balances([account_id])[account_id]

    def balances(self, account_ids: Sequence[int]) -> dict[int, Balance]:
        """Counters of several accounts; AccountNotFound if one is missing."""
        ids = sorted(set(account_ids))
        out = self._read_balances(ids)
        if out is None:  # a hold's time is up: expire it first, then read again
            self.expire_pending()
            out = self._read_balances(ids, expired=True) or {}
        missing = [i for i in ids if i not in out]
        if missing:
            raise AccountNotFound(f"no account with id {missing[0]}")
        return out

    def _read_balances(self, ids: list[int], expired: bool = False) -> dict[int, Balance] | None:
        """The counters, read with the chain head's next expiry in the same statement (one round trip, one
        snapshot); None when a hold is due to expire first (unless `expired`: it just ran)."""
        out: dict[int, Balance] = {}
        nxt_q = sa.select(head_t.c.next_expiry_us).where(head_t.c.id == 1).scalar_subquery().label("next_expiry")
        now = self.now_us()
        with self._reading() as conn:
            if not ids:
                nxt = conn.execute(sa.select(nxt_q)).scalar()
                return None if not expired and nxt is not None and nxt <= now else out
            for chunk in _chunks(ids):
                for r in conn.execute(sa.select(accounts_t, nxt_q).where(accounts_t.c.id.in_(chunk))):
                    if not expired and r.next_expiry is not None and r.next_expiry <= now:
                        return None
                    out[r.id] = Balance(
                        r.id, r.asset, r.debits_posted, r.credits_posted, r.debits_pending, r.credits_pending
                    )
        return out

    def statement(
        self, account_id: int, start: datetime | None = None, end: datetime | None = None
    ) -> list[StatementLine]:
        """Posted movements of the account with `start <= at < end`, oldest first, each with the
        running posted balance (credits minus debits)."""
        t = transfers_t
        a = account_id
        closing = int(TransferFlag.PENDING | TransferFlag.VOID_PENDING_TRANSFER)
        touches = sa.or_(t.c.debit_account_id == a, t.c.credit_account_id == a)
        posting = t.c.flags.op("&")(closing) == 0
        with self._reading() as conn:
            if conn.execute(sa.select(accounts_t.c.id).where(accounts_t.c.id == a)).first() is None:
                raise AccountNotFound(f"no account with id {a}")
            balance = 0
            q = sa.select(t.c.id, t.c.created_us, t.c.debit_account_id, t.c.credit_account_id,
                          t.c.amount, t.c.memo, t.c.code).where(touches, posting)  # fmt: skip
            if start is not None:
                s_us = to_us(start)
                balance = conn.execute(self._balance_before_q(a, s_us)).scalar_one()
                q = q.where(t.c.created_us >= s_us)
            if end is not None:
                q = q.where(t.c.created_us < to_us(end))
            lines: list[StatementLine] = []
            for r in conn.execute(q.order_by(t.c.seq)):
                amount = r.amount if r.credit_account_id == a else -r.amount
                balance += amount
                other = r.debit_account_id if r.credit_account_id == a else r.credit_account_id
                lines.append(
                    StatementLine(r.id, from_us(r.created_us), amount, balance, other, r.memo, r.code)
                )
        return lines

    def latest(self, account_id: int, limit: int = 10) -> list[StatementLine]:
        """The account's `limit` newest posted movements, newest first, each with the running posted
        balance after it. Reads at most `limit` rows a side through the account/time indexes, however
        long the account's past (what a "latest transactions" answer needs, not a whole statement)."""
        t, a = transfers_t, account_id
        closing = int(TransferFlag.PENDING | TransferFlag.VOID_PENDING_TRANSFER)
        cols = (t.c.seq, t.c.id, t.c.created_us, t.c.debit_account_id, t.c.credit_account_id, t.c.amount, t.c.memo, t.c.code)
        conn = self._reading()
        if self._pg:  # the counters and the rows from one snapshot
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn, conn.begin():
            acct = conn.execute(sa.select(accounts_t.c.credits_posted, accounts_t.c.debits_posted)
                                .where(accounts_t.c.id == a)).first()
            if acct is None:
                raise AccountNotFound(f"no account with id {a}")
            rows: dict[int, Any] = {}
            for side in (t.c.debit_account_id, t.c.credit_account_id):
                q = (sa.select(*cols).where(side == a, t.c.flags.op("&")(closing) == 0)
                     .order_by(t.c.created_us.desc(), t.c.seq.desc()).limit(limit))
                rows.update((r.seq, r) for r in conn.execute(q))
        newest = sorted(rows.values(), key=lambda r: (r.created_us, r.seq), reverse=True)[:limit]
        balance = int(acct.credits_posted) - int(acct.debits_posted)
        lines: list[StatementLine] = []
        for r in newest:
            amount = r.amount if r.credit_account_id == a else -r.amount
            other = r.debit_account_id if r.credit_account_id == a else r.credit_account_id
            lines.append(StatementLine(r.id, from_us(r.created_us), amount, balance, other, r.memo, r.code))
            balance -= amount
        return lines

    @staticmethod
    def _balance_before_q(account_id: int, at_us: int) -> Any:
        """One statement (one snapshot): the posted balance now (the account's counters) less what moved
        since `at_us`. It reads only the rows since then (the account/time indexes), never the whole past."""
        t, a = transfers_t, account_id
        closing = int(TransferFlag.PENDING | TransferFlag.VOID_PENDING_TRANSFER)
        signed = sa.case((t.c.credit_account_id == a, t.c.amount), else_=-t.c.amount)
        since = (
            sa.select(sa.func.coalesce(sa.func.sum(signed), 0))
            .where(sa.or_(t.c.debit_account_id == a, t.c.credit_account_id == a),
                   t.c.flags.op("&")(closing) == 0, t.c.created_us >= at_us)
            .scalar_subquery()
        )  # fmt: skip
        return sa.select(accounts_t.c.credits_posted - accounts_t.c.debits_posted - since).where(accounts_t.c.id == a)

    def balance_before(self, account_id: int, at: datetime) -> int:
        """The account's posted balance just before `at` (what a statement from `at` opens with)."""
        with self._reading() as conn:
            value = conn.execute(self._balance_before_q(account_id, to_us(at))).scalar()
        if value is None:
            raise AccountNotFound(f"no account with id {account_id}")
        return int(value)

    def lookup_transfer(self, transfer_id: str) -> Transfer | None:
        """The transfer with that id (also an expiry row `~expired:<hold id>`), or None."""
        with self._reading() as conn:
            r = conn.execute(sa.select(transfers_t).where(transfers_t.c.id == transfer_id)).first()
        return None if r is None else to_transfer(row_from_db(r))

    def open_holds(self, account_id: int) -> list[Transfer]:
        """Pending transfers (holds not yet posted, voided or expired) that debit or credit the account."""
        t = transfers_t
        q = sa.select(t).where(
            t.c.status == TransferStatus.PENDING.value,
            sa.or_(t.c.debit_account_id == account_id, t.c.credit_account_id == account_id),
        ).order_by(t.c.seq)
        with self._reading() as conn:
            return [to_transfer(row_from_db(r)) for r in conn.execute(q)]

    # -- transfers ------------------------------------------------------------------------------

    def create_transfer(self, t: TransferSpec) -> TransferResult:
        """One transfer in its own durable transaction."""
        return self.create_transfers([t])[0]

    def create_transfers(self, transfers: Sequence[TransferSpec]) -> list[TransferResult]:
        """Apply the transfers in order in one durable transaction (group commit); a LINKED chain
        succeeds or fails as a whole. One result per transfer, in order."""
        if not transfers:
            return []
        specs = list(transfers)
        batch, outcomes = self._retrying(lambda: self._apply(specs, expire_all=False))
        return [_result(s, o) for s, o in zip(specs, outcomes, strict=True)]

    def reverse(
        self, original_id: str, new_id: str, amount: int | None = None, memo: str | None = None
    ) -> TransferResult:
        """Send back `amount` (all of it by default) of a posted transfer, as a new transfer
        `new_id` with `reverses_id` pointing at the original. Retry-safe like any transfer."""
        original = self.lookup_transfer(original_id)
        if original is None:
            existing = self.lookup_transfer(new_id)
            if existing is not None:
                return TransferResult(new_id, ResultCode.exists_with_different_reverses_id, existing)
            return TransferResult(new_id, ResultCode.reversed_transfer_not_found, None)
        return self.create_transfer(
            TransferSpec(
                id=new_id,
                debit_account_id=original.credit_account_id,
                credit_account_id=original.debit_account_id,
                amount=original.amount if amount is None else amount,
                code=original.code,
                memo=memo,
                reverses_id=original_id,
            )
        )

    def expire_pending(self) -> list[str]:
        """Void every hold whose timeout has passed by the clock; the ids of those holds."""
        batch, _ = self._retrying(lambda: self._apply([], expire_all=True))
        assert isinstance(batch, Batch)
        return list(batch.expired_ids)

    def check(self) -> CheckReport:
        """Recompute everything from the entries and compare (see `ledger.check`)."""
        return run_check(self.engine)

    # -- the hot path ---------------------------------------------------------------------------

    def _apply(self, specs: list[TransferSpec], expire_all: bool) -> tuple[Batch, list[Outcome]]:
        # The writer keeps one connection of its own (guarded by the writer lock): no pool
        # checkout and reset per batch. After any error it is given back and a fresh one taken.
        if self._writer is None:
            self._writer = self.engine.raw_connection()
        raw = self._writer
        dconn: Any = raw.driver_connection
        try:
            if self._pg:
                return self._apply_pg(dconn, specs, expire_all)
            return self._apply_sqlite(dconn, specs, expire_all)
        except BaseException:
            self._writer = None
            with contextlib.suppress(Exception):
                if self._pg:
                    dconn.rollback()
                elif dconn.in_transaction:
                    dconn.execute("ROLLBACK")
            with contextlib.suppress(Exception):
                raw.close()
            raise

    def _read_plan(self, specs: list[TransferSpec]) -> tuple[list[str], list[str], list[str], list[int]]:
        ids = list(dict.fromkeys(s.id for s in specs))
        refs = [s.pending_id for s in specs if s.pending_id] + [s.reverses_id for s in specs if s.reverses_id]
        lookup = list(dict.fromkeys(ids + refs))
        rev = list(dict.fromkeys(s.reverses_id for s in specs if s.reverses_id))
        return ids, lookup, rev, sorted(accounts_needed(specs))

    def _apply_sqlite(self, dconn: Any, specs: list[TransferSpec], expire_all: bool) -> tuple[Batch, list[Outcome]]:
        sql = self._sql
        cur = dconn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        now = self.now_us()
        ids, lookup, rev, acct_ids = self._read_plan(specs)
        head_seq, head_hash, next_exp = cur.execute(sql.head).fetchone()
        rows: dict[str, Row] = {}
        for chunk in _chunks(lookup):
            for r in cur.execute(*sql.transfers_by_id(chunk)):
                rows[r[1]] = row_from_db(r)
        failed: dict[str, str] = {}
        for chunk in _chunks(ids):
            failed.update(cur.execute(*sql.failures_by_id(chunk)))
        sums: dict[str, int] = {}
        for chunk in _chunks(rev):
            sums.update(cur.execute(*sql.reversed_sums(chunk)))
        accts: dict[int, AccountState] = {}
        if acct_ids:
            self._load_accounts(cur, acct_ids, accts)
        due: list[Row] = []
        ran = expire_all or (next_exp is not None and next_exp <= now)
        if ran:
            for r in cur.execute(sql.due_holds, (now,)):
                due.append(rows.setdefault(r[1], row_from_db(r)))
            next_exp = cur.execute(sql.next_expiry, (now,)).fetchone()[0]
        extra = self._hold_accounts(specs, rows, due, accts)
        if extra:
            self._load_accounts(cur, extra, accts)
        batch, outcomes = self._run(now, head_seq, head_hash, next_exp, rows, failed, accts, sums, due, specs)
        w = _writes(batch, rows, accts)
        if w.transfers:
            cur.executemany(sql.insert_transfer, w.transfers)
        if w.statuses:
            cur.executemany(sql.update_status, w.statuses)
        if w.accounts:
            cur.executemany(sql.update_account, w.accounts)
        if w.failures:
            cur.executemany(sql.insert_failure, w.failures)
        if w.transfers or ran or batch.next_expiry_us != w.old_next:
            cur.execute(sql.update_head, (batch.head_seq, batch.head_hash, batch.next_expiry_us))
        cur.execute("COMMIT")
        return batch, outcomes

    def _apply_pg(self, dconn: Any, specs: list[TransferSpec], expire_all: bool) -> tuple[Batch, list[Outcome]]:
        sql = self._sql
        now = self.now_us()
        ids, lookup, rev, acct_ids = self._read_plan(specs)
        rows: dict[str, Row] = {}
        failed: dict[str, str] = {}
        sums: dict[str, int] = {}
        accts: dict[int, AccountState] = {}
        cur = dconn.cursor()
        # planned for its arrays each time: a generic plan of this statement scans whole tables
        result = cur.execute(*sql.pg_read(lookup, ids, rev, acct_ids), prepare=False).fetchall()
        head = next(r for r in result if r[0] == 0)
        head_seq, head_hash, next_exp = head[1], head[2], head[5]
        if head[8] != head[13]:  # someone committed while we waited for the head: read again
            result = cur.execute(*sql.pg_state(lookup, ids, rev, acct_ids), prepare=False).fetchall()
        for r in result:
            k = r[0]
            if k == 1:
                rows[r[2]] = row_from_db(r[1:])
            elif k == 2:
                failed[r[2]] = r[15]
            elif k == 3:
                accts[r[3]] = account_from_db((r[3], r[2], r[4], r[5], r[8], r[13], r[14], r[1]))
            elif k == 4:
                sums[r[2]] = int(r[5])
        due: list[Row] = []
        ran = expire_all or (next_exp is not None and next_exp <= now)
        if ran:
            for r in cur.execute(sql.due_holds, (now,)).fetchall():
                due.append(rows.setdefault(r[1], row_from_db(r)))
            next_exp = cur.execute(sql.next_expiry, (now,)).fetchone()[0]
        extra = self._hold_accounts(specs, rows, due, accts)
        if extra:
            self._load_accounts(cur, extra, accts)
        batch, outcomes = self._run(now, head_seq, head_hash, next_exp, rows, failed, accts, sums, due, specs)
        w = _writes(batch, rows, accts)
        if not (w.transfers or w.statuses or w.accounts or w.failures or ran or batch.next_expiry_us != w.old_next):
            dconn.rollback()  # nothing to write: every result was `exists` or a validation error
            return batch, outcomes
        cur.execute(sql.PG_WRITE, _columns(w, batch))  # every write in one statement
        dconn.commit()
        return batch, outcomes

    def _load_accounts(self, cur: Any, ids: list[int], into: dict[int, AccountState]) -> None:
        for chunk in _chunks(ids):
            for a in cur.execute(*self._sql.accounts_by_id(chunk)):
                into[a[0]] = account_from_db(a)

    @staticmethod
    def _hold_accounts(
        specs: list[TransferSpec], rows: dict[str, Row], due: list[Row], accts: dict[int, AccountState]
    ) -> list[int]:
        need: set[int] = set()
        holds = [rows[s.pending_id] for s in specs if s.pending_id and s.pending_id in rows] + due
        if not holds:
            return []
        for p in holds:
            need.add(p.debit_account_id)
            need.add(p.credit_account_id)
        return sorted(need - accts.keys())

    @staticmethod
    def _run(
        now: int, head_seq: int, head_hash: str, next_exp: int | None, rows: dict[str, Row],
        failed: dict[str, str], accts: dict[int, AccountState], sums: dict[str, int],
        due: list[Row], specs: list[TransferSpec],
    ) -> tuple[Batch, list[Outcome]]:  # fmt: skip
        batch = Batch(now, head_seq, head_hash, next_exp, rows, failed, accts, sums)
        for p in due:
            if batch.is_due(p):
                batch.expire(p)
        outcomes = batch.execute(specs)
        batch.finalize()
        return batch, outcomes


class _Writes:
    __slots__ = ("transfers", "statuses", "accounts", "failures", "old_next")

    def __init__(self) -> None:
        self.transfers: list[tuple[object, ...]] = []
        self.statuses: list[tuple[str, int]] = []
        self.accounts: list[tuple[int, int, int, int, int, int]] = []
        self.failures: list[tuple[str, str, int]] = []
        self.old_next: int | None = None


def _writes(batch: Batch, rows: dict[str, Row], accts: dict[int, AccountState]) -> _Writes:
    w = _Writes()
    w.old_next = batch.loaded_next_expiry_us
    w.transfers = [r.values() for r in batch.new_rows]
    w.statuses = [(r.status, r.seq) for r in rows.values() if r.loaded_status and r.status != r.loaded_status]
    w.accounts = [
        (a.debits_posted, a.credits_posted, a.debits_pending, a.credits_pending, a.version, a.id)
        for a in sorted(accts.values(), key=lambda a: a.id)
        if a.changed()
    ]
    w.failures = [(i, code, batch.now_us) for i, code in batch.new_failures]
    return w


def _columns(w: _Writes, batch: Batch) -> list[Any]:
    """The arrays of PG_WRITE: transfer columns, account counters, statuses, failures, head."""
    cols: list[Any] = [list(c) for c in zip(*w.transfers, strict=True)] if w.transfers else [[] for _ in range(16)]
    cols += [list(c) for c in zip(*w.accounts, strict=True)] if w.accounts else [[] for _ in range(6)]
    cols += [list(c) for c in zip(*w.statuses, strict=True)] if w.statuses else [[], []]
    cols += [list(c) for c in zip(*w.failures, strict=True)] if w.failures else [[], [], []]
    return [*cols, batch.head_seq, batch.head_hash, batch.next_expiry_us]


def _result(s: TransferSpec, o: Outcome) -> TransferResult:
    row = o.row
    return TransferResult(s.id, o.code, None if row is None else to_transfer(row), o.first_failure)

