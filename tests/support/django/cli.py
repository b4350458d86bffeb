# The old backend driven from the tests: `python3 cli.py COMMAND [ARGS]` with settings.py.
#   migrate                      create Django's tables (auth_user, transactions_transaction, ...)
#   users JSON                   create users with real Django hashes; prints their ids
#   mint USER_ID                 prints {"access": ..., "refresh": ...} issued by SimpleJWT
#   verify TYPE TOKEN            prints the token's claims if SimpleJWT accepts it, else exits 1
#   refresh TOKEN                prints SimpleJWT's refreshed access token
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'settings')

import django  # noqa: E402

django.setup()

command, args = sys.argv[1], sys.argv[2:]

if command == 'migrate':
    from django.core.management import call_command
    call_command('migrate', verbosity=0)
elif command == 'users':
    from django.contrib.auth.models import User
    ids = []
    for spec in json.loads(args[0]):
        user = User.objects.create_user(spec['username'], spec.get('email', ''), spec['password'])
        ids.append(user.id)
    print(json.dumps(ids))
elif command == 'mint':
    from rest_framework_simplejwt.tokens import RefreshToken

    class Known:  # SimpleJWT reads only the id field of the user
        id = int(args[0])

    refresh = RefreshToken.for_user(Known())
    print(json.dumps({'access': str(refresh.access_token), 'refresh': str(refresh)}))
elif command == 'verify':
    from rest_framework_simplejwt.exceptions import TokenError
    from rest_framework_simplejwt.tokens import AccessToken, RefreshToken
    try:
        token = (AccessToken if args[0] == 'access' else RefreshToken)(args[1])
    except TokenError as err:
        print(str(err))
        sys.exit(1)
    print(json.dumps(token.payload))
elif command == 'refresh':
    from rest_framework_simplejwt.serializers import TokenRefreshSerializer
    serializer = TokenRefreshSerializer(data={'refresh': args[0]})
    serializer.is_valid(raise_exception=True)
    print(json.dumps(serializer.validated_data))
else:
    sys.exit(f'unknown command {command}')
