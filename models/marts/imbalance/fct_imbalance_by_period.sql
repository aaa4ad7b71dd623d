-- The imbalance picture per settlement period: system sell and buy prices and the net imbalance
-- volume (Elexon's system prices), NETBSAD price and volume adjustments, DISBSAD actions (cost,
-- volume; from the DISBSAD dataset and the per-period details endpoint, each action once), and the
-- latest national indicated demand and generation forecasts for the period.
-- Incremental by settlement day (macros/incremental.sql), the lookback in the model's YAML.
{{ config(**incremental_by_day('settlement_date')) }}

{%- set window_start = incremental_window_start() %}

with

prices as (

    select * from {{ ref('stg_bmrs__system_prices') }}
    where {{ on_or_after('settlement_date', window_start) }}

),

netbsad as (

    select * from {{ ref('stg_bmrs__netbsad') }}
    where {{ on_or_after('settlement_date', window_start) }}

),

disbsad_actions as (

    select
        settlement_date,
        settlement_period,
        id,
        {{ adapter.quote('cost') }} as action_cost,
        volume,
        so_flag
    from {{ ref('stg_bmrs__disbsad') }}
    where {{ on_or_after('settlement_date', window_start) }}
    union all
    select
        settlement_date,
        settlement_period,
        id,
        {{ adapter.quote('cost') }} as action_cost,
        volume,
        so_flag
    from {{ ref('stg_bmrs__balancing_nonbm_disbsad_details') }}
    where {{ on_or_after('settlement_date', window_start) }}

),

distinct_actions as (

    -- an action reported by both the dataset and the details endpoint counts once
    select distinct
        settlement_date,
        settlement_period,
        id,
        action_cost,
        volume,
        so_flag
    from disbsad_actions

),

disbsad as (

    select
        settlement_date,
        settlement_period,
        count(*) as disbsad_actions,
        sum(action_cost) as disbsad_cost_gbp,
        sum(volume) as disbsad_volume_mwh,
        sum(case when so_flag then volume else 0 end) as disbsad_so_flagged_volume_mwh
    from distinct_actions
    group by 1, 2

),

national_demand as (

    select * from {{ ref('stg_bmrs__inddem') }}
    where boundary = 'N' and {{ on_or_after('settlement_date', window_start) }}

),

latest_demand as (

    {{ latest_per_key('national_demand', 'settlement_date, settlement_period', 'publish_time_utc desc') }}

),

national_generation as (

    select * from {{ ref('stg_bmrs__indgen') }}
    where boundary = 'N' and {{ on_or_after('settlement_date', window_start) }}

),

latest_generation as (

    {{ latest_per_key('national_generation', 'settlement_date, settlement_period', 'publish_time_utc desc') }}

),

indicated as (

    select
        latest_demand.settlement_date,
        latest_demand.settlement_period,
        latest_demand.demand as indicated_demand_mw,
        latest_generation.generation as indicated_generation_mw
    from latest_demand
    left join latest_generation
        on
            latest_demand.settlement_date = latest_generation.settlement_date
            and latest_demand.settlement_period = latest_generation.settlement_period

),

spine as (

    select
        settlement_date,
        settlement_period
    from prices
    union distinct
    select
        settlement_date,
        settlement_period
    from netbsad
    union distinct
    select
        settlement_date,
        settlement_period
    from disbsad
    union distinct
    select
        settlement_date,
        settlement_period
    from indicated

)

select
    spine.settlement_date,
    spine.settlement_period,
    {{ settlement_period_start_utc('spine.settlement_date', 'spine.settlement_period') }}
        as settlement_period_start_utc,
    prices.system_sell_price as system_sell_price_gbp_per_mwh,
    prices.system_buy_price as system_buy_price_gbp_per_mwh,
    prices.net_imbalance_volume as net_imbalance_volume_mwh,
    prices.price_derivation_code,
    prices.total_accepted_offer_volume as accepted_offer_volume_mwh,
    prices.total_accepted_bid_volume as accepted_bid_volume_mwh,
    netbsad.buy_price_price_adjustment as netbsad_buy_price_adjustment_gbp_per_mwh,
    netbsad.sell_price_price_adjustment as netbsad_sell_price_adjustment_gbp_per_mwh,
    netbsad.net_buy_price_volume_adjustment_energy as netbsad_buy_volume_adjustment_mwh,
    netbsad.net_sell_price_volume_adjustment_energy as netbsad_sell_volume_adjustment_mwh,
    coalesce(disbsad.disbsad_actions, 0) as disbsad_actions,
    disbsad.disbsad_cost_gbp,
    disbsad.disbsad_volume_mwh,
    disbsad.disbsad_so_flagged_volume_mwh,
    indicated.indicated_demand_mw,
    indicated.indicated_generation_mw
from spine
left join prices
    on spine.settlement_date = prices.settlement_date and spine.settlement_period = prices.settlement_period
left join netbsad
    on spine.settlement_date = netbsad.settlement_date and spine.settlement_period = netbsad.settlement_period
left join disbsad
    on spine.settlement_date = disbsad.settlement_date and spine.settlement_period = disbsad.settlement_period
left join indicated
    on spine.settlement_date = indicated.settlement_date and spine.settlement_period = indicated.settlement_period
