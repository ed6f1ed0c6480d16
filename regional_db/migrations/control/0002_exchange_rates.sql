-- Exchange rates as dated data (shared/src/money/convert.rs `Rate`): units of a currency per
-- euro, as of a date, from a source. Written by `regional-db jobs run rates` on the control
-- plane (the ECB's reference rates, and the CFA francs' legal parity), replicated to every
-- region with the directory. History is kept: an estimate says which day's rate it used.
CREATE TABLE control.exchange_rates (
    currency    text NOT NULL CHECK (currency ~ '^[A-Z]{3}$' AND currency <> 'EUR'),
    as_of       date NOT NULL,
    per_eur     numeric NOT NULL CHECK (per_eur > 0),
    source      text NOT NULL CHECK (source IN ('ecb', 'peg', 'manual')),
    fetched_at  timestamptz NOT NULL DEFAULT now(),
    -- Also the latest rate of a currency: the key's index read backwards.
    PRIMARY KEY (currency, as_of)
);
