"""Group money: membership, uneven splits, debts and settle-up, pots, red packets and tips."""
