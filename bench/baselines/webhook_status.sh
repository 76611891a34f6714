#!/bin/sh
# The seed's three queries through the mysql client, run by webhook (see hooks.json).
for s in Success Pending Failed; do
  mysql -u"$BENCH_DB_USER" -p"$BENCH_DB_PASSWORD" -e "USE flasktest; SELECT COUNT(*) FROM tasks WHERE task_status='$s';" 2>/dev/null || exit 1
done
