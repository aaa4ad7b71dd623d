-- A unit's instructed level over time, with overlapping acceptances resolved. In the Balancing
-- Mechanism each new Bid-Offer Acceptance replaces the unit's previous instruction from its start:
-- acceptance numbers k rise with acceptance time (BSC Section Q5.3.1(b)), and the level a unit must
-- run at at an instant t is the Acceptance Volume qAkij(t) of the latest acceptance k covering t
-- (BSC Section T3.4). So where acceptances overlap, only the highest-numbered one counts.
-- Each unit's time line is cut at every piece boundary (segment ends and settlement-period
-- boundaries); every interval between two cuts lies within one piece of each acceptance that
-- covers it, and takes the level of the highest-numbered one.
{{ resolve_instructed_profile(ref('int_boalf_segments_split_by_period')) }}
