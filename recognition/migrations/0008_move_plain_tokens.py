"""Move DRF's plain API tokens (rest_framework.authtoken) to hashed ApiTokens, then erase the plain keys.

Clients keep their key: it is stored as knox stores its own (a SHA-512 digest and the first 15
characters), and it now expires API_TOKEN_DAYS after this migration. The emptied table authtoken_token
is left for an operator to drop.
"""

from datetime import timedelta

from django.conf import settings
from django.db import migrations
from django.utils import timezone
from knox.crypto import hash_token
from knox.settings import CONSTANTS

PLAIN_TABLE = "authtoken_token"
NAME = "API token (from before tokens had names)"


def hash_plain_tokens(apps, schema_editor):
    connection = schema_editor.connection
    if PLAIN_TABLE not in connection.introspection.table_names():
        return
    ApiToken = apps.get_model("recognition", "ApiToken")
    expiry = timezone.now() + timedelta(days=settings.API_TOKEN_DAYS)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT key, user_id FROM {PLAIN_TABLE}")
        moved = [
            ApiToken(
                digest=hash_token(key),
                token_key=key[: CONSTANTS.TOKEN_KEY_LENGTH],
                user_id=user_id,
                expiry=expiry,
                name=NAME,
            )
            for key, user_id in cursor.fetchall()
        ]
        ApiToken.objects.bulk_create(moved)
        cursor.execute(f"DELETE FROM {PLAIN_TABLE}")


class Migration(migrations.Migration):
    dependencies = [("recognition", "0007_apitoken")]

    operations = [migrations.RunPython(hash_plain_tokens, migrations.RunPython.noop)]
