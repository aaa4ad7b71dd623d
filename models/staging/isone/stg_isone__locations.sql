-- ISO-NE core locations (hub, load zones, external nodes, reserve zones): every location ever
-- loaded, flagged when it was in the latest list. History: snapshots/isone_locations_snapshot.
{{ isone_location_list_staging('locations') }}
