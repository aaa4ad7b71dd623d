-- Cutting BOALF segments at period boundaries must neither lose nor invent time: per segment,
-- the pieces' minutes add up to the segment's length (and a segment never spans > 96 periods).
with

segments as (

    select
        _natural_key as segment_key,
        {{ minutes_between('time_from_utc', 'time_to_utc') }} as segment_minutes
    from {{ ref('stg_bmrs__boalf') }}
    where time_to_utc >= time_from_utc

),

pieces as (

    select
        segment_key,
        sum(duration_minutes) as piece_minutes
    from {{ ref('int_boalf_segments_split_by_period') }}
    group by segment_key

)

select
    segments.segment_key,
    segments.segment_minutes,
    pieces.piece_minutes
from segments
left join pieces on segments.segment_key = pieces.segment_key
where pieces.piece_minutes is null
    or abs(segments.segment_minutes - pieces.piece_minutes) > 0.001
