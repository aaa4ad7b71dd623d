-- ISO-NE pricing locations, node to zone crosswalk: every node ever loaded, flagged when it was
-- in the latest list. History: snapshots/isone_pricing_nodes_snapshot.
{{ isone_location_list_staging('pricing_nodes') }}
