"""X-Bench-Statements: how many SQL statements a response took (the benchmark reads it)."""

from django.db import connection


class StatementCount:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        count = 0

        def counted(execute, sql, params, many, context):
            nonlocal count
            count += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(counted):
            response = self.get_response(request)
        response["X-Bench-Statements"] = str(count)
        return response
