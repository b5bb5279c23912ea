-- Rows per workshop table: the first sanity check after the data lands.
SELECT 'bike_sharing_hourly' AS table_name, COUNT(*) AS row_count FROM bike_sharing_hourly
UNION ALL
SELECT 'bank_marketing' AS table_name, COUNT(*) AS row_count FROM bank_marketing
ORDER BY table_name
