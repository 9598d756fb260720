"""The conversion side's own table: whether a person keeps money that arrives in other currencies."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel


class FxPref(SQLModel, table=True):
    """A person's choice for money that arrives in a currency they do not hold: keep it in a wallet of its own,
    or (the default, no row) receive it converted into their default currency."""

    __tablename__ = "bot_fx_prefs"

    user_id: int = Field(foreign_key="bot_users.id", primary_key=True)
    keep_foreign: bool = False
    updated_at: datetime
