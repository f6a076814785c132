-- Every object of the installed pg_ab extension as Postgres records it: what users see and
-- rely on (signatures, defaults, results, markings, C symbols, aggregates' support functions,
-- composite types and comments), one line per object, sorted.
WITH members AS (
    SELECT d.classid, d.objid FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
    WHERE e.extname = 'pg_ab' AND d.deptype = 'e'
)
SELECT line FROM (
    SELECT format('function %s(%s) returns %s; kind %s volatility %s strict %s parallel %s cost %s rows %s; symbol %s; comment %L',
                  p.proname, pg_get_function_arguments(p.oid), pg_get_function_result(p.oid), p.prokind,
                  p.provolatile, p.proisstrict, p.proparallel, p.procost, p.prorows, p.prosrc,
                  obj_description(p.oid, 'pg_proc')) AS line
    FROM members m JOIN pg_proc p ON m.classid = 'pg_proc'::regclass AND p.oid = m.objid
    UNION ALL
    SELECT format('aggregate %s: sfunc %s stype %s final %s combine %s serial %s deserial %s finalmodify %s',
                  a.aggfnoid::regprocedure, a.aggtransfn::regprocedure, a.aggtranstype::regtype,
                  a.aggfinalfn::regprocedure, a.aggcombinefn::regprocedure, a.aggserialfn::regprocedure,
                  a.aggdeserialfn::regprocedure, a.aggfinalmodify)
    FROM members m JOIN pg_aggregate a ON m.classid = 'pg_proc'::regclass AND a.aggfnoid = m.objid
    UNION ALL
    SELECT format('type %s (%s); comment %L', t.typname,
                  (SELECT string_agg(format('%s %s', att.attname, format_type(att.atttypid, att.atttypmod)), ', ' ORDER BY att.attnum)
                   FROM pg_attribute att WHERE att.attrelid = t.typrelid AND att.attnum > 0 AND NOT att.attisdropped),
                  obj_description(t.oid, 'pg_type'))
    FROM members m JOIN pg_type t ON m.classid = 'pg_type'::regclass AND t.oid = m.objid
) objects
ORDER BY line;
