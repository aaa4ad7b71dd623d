-- Elexon's settlement acceptance volumes (BOAV) per BM unit, acceptance and settlement period,
-- bids and offers together, with the system-operator flag of each acceptance from BOALF. The
-- volume is the Accepted Bid-Offer Volume: the change an acceptance makes to the unit's level
-- against what it was already instructed to do (its previous acceptance, or its Final Physical
-- Notification), integrated over the period (BSC Section T3.7, T3.8; Elexon glossary "Accepted
-- Bid Volume", "Period Accepted Offer Volume"). Offers raise output (positive), bids lower it
-- (negative). is_so_flagged is null where BOALF for that acceptance is not loaded.
{{ acceptance_volumes_flagged() }}
