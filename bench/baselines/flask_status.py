"""The seed's app, as the post describes it, for the benchmark.

GET /status/ runs the mysql client three times through a shell (one COUNT per status),
for allowlisted addresses only; everyone else gets Flask's ordinary 404.

Served by Flask's built-in (Werkzeug) development server with threaded=True, as the post
does with `python app.py` under supervisor. The database password comes from the
environment (BENCH_DB_PASSWORD) instead of being written in the file, but reaches the
client on its command line (-p...), as in the post.
"""
import logging
import os
import subprocess
import sys

from flask import Flask, abort, request

app = Flask(__name__)

white_list = ['127.0.0.1']
user = os.environ.get('BENCH_DB_USER', 'flaskuser')
password = os.environ['BENCH_DB_PASSWORD']
success_query = "USE flasktest; SELECT COUNT(*) FROM tasks WHERE task_status='Success';"
pending_query = "USE flasktest; SELECT COUNT(*) FROM tasks WHERE task_status='Pending';"
failed_query = "USE flasktest; SELECT COUNT(*) FROM tasks WHERE task_status='Failed';"


def valid_ip():
    client = request.remote_addr
    return client in white_list


@app.route('/status/')
def status():
    if not valid_ip():
        abort(404)
    success_cmd = 'mysql -u%s -p%s -e "%s"' % (user, password, success_query)
    pending_cmd = 'mysql -u%s -p%s -e "%s"' % (user, password, pending_query)
    failed_cmd = 'mysql -u%s -p%s -e "%s"' % (user, password, failed_query)
    try:
        success = subprocess.check_output(success_cmd, shell=True, stderr=subprocess.DEVNULL).decode()
        pending = subprocess.check_output(pending_cmd, shell=True, stderr=subprocess.DEVNULL).decode()
        failed = subprocess.check_output(failed_cmd, shell=True, stderr=subprocess.DEVNULL).decode()
    except subprocess.CalledProcessError as e:
        return 'Error: %s' % e, 500
    return 'Success: %s<br>Pending: %s<br>Failed: %s' % (success, pending, failed)


if __name__ == '__main__':
    # Request logging off, as Porthole runs with PORTHOLE_LOG_LEVEL=warn in the bench.
    logging.getLogger('werkzeug').setLevel(logging.WARNING)
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    app.run(host='127.0.0.1', port=port, threaded=True)
