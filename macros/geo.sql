{#
    Great-circle (haversine) distance in km between two WGS84 points given in degrees, on a sphere
    of the Earth's mean radius (6371.0088 km, IUGG). Plain trigonometry both DuckDB and BigQuery
    have (BigQuery has no radians(), hence the constant).
#}
{% macro great_circle_km(lat1, lon1, lat2, lon2) -%}
    2 * 6371.0088 * asin(sqrt(
        power(sin(({{ lat2 }} - {{ lat1 }}) * 0.017453292519943295 / 2), 2)
        + cos({{ lat1 }} * 0.017453292519943295) * cos({{ lat2 }} * 0.017453292519943295)
        * power(sin(({{ lon2 }} - {{ lon1 }}) * 0.017453292519943295 / 2), 2)
    ))
{%- endmacro %}
