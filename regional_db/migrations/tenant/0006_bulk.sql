-- What the API's generated statements need besides each resource's table: a way for a
-- statement to refuse a whole batch under a named rule (the edge words it, like a
-- constraint), used by Bundle transactions and conditional creates whose If-None-Exist
-- matches several resources (412, nothing written).
CREATE OR REPLACE FUNCTION api_refuse(rule text, detail text) RETURNS boolean
    LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '"%": %', rule, detail USING ERRCODE = 'check_violation';
END
$$;
