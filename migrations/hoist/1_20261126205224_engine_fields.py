"""1_20261126205224_engine_fields.py: written by scripts/make_migration.py with SQL for each dialect."""

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True

SQL = {
    "sqlite": {
        "upgrade": 'ALTER TABLE "deploy_task" ADD "package_size" BIGINT NOT NULL DEFAULT 0;\n        ALTER TABLE "deploy_task" ADD "package_files" INT NOT NULL DEFAULT 0;\n        ALTER TABLE "deploy_task" ADD "package_sha256" VARCHAR(64) NOT NULL DEFAULT \'\';\n        ALTER TABLE "stage_run" ADD "previous_release" VARCHAR(1024);\n        ALTER TABLE "stage_run" ADD "bytes_sent" BIGINT NOT NULL DEFAULT 0;',
        "downgrade": 'ALTER TABLE "deploy_task" DROP COLUMN "package_size";\n        ALTER TABLE "deploy_task" DROP COLUMN "package_files";\n        ALTER TABLE "deploy_task" DROP COLUMN "package_sha256";\n        ALTER TABLE "stage_run" DROP COLUMN "previous_release";\n        ALTER TABLE "stage_run" DROP COLUMN "bytes_sent";',
    },
    "postgres": {
        "upgrade": 'ALTER TABLE "deploy_task" ADD "package_sha256" VARCHAR(64) NOT NULL DEFAULT \'\';\n        ALTER TABLE "deploy_task" ADD "package_size" BIGINT NOT NULL DEFAULT 0;\n        ALTER TABLE "deploy_task" ADD "package_files" INT NOT NULL DEFAULT 0;\n        ALTER TABLE "stage_run" ADD "bytes_sent" BIGINT NOT NULL DEFAULT 0;\n        ALTER TABLE "stage_run" ADD "previous_release" VARCHAR(1024);',
        "downgrade": 'ALTER TABLE "stage_run" DROP COLUMN "bytes_sent";\n        ALTER TABLE "stage_run" DROP COLUMN "previous_release";\n        ALTER TABLE "deploy_task" DROP COLUMN "package_sha256";\n        ALTER TABLE "deploy_task" DROP COLUMN "package_size";\n        ALTER TABLE "deploy_task" DROP COLUMN "package_files";',
    },
    "mysql": {
        "upgrade": "ALTER TABLE `deploy_task` ADD `package_size` BIGINT NOT NULL DEFAULT 0;\n        ALTER TABLE `deploy_task` ADD `package_files` INT NOT NULL DEFAULT 0;\n        ALTER TABLE `deploy_task` ADD `package_sha256` VARCHAR(64) NOT NULL DEFAULT '';\n        ALTER TABLE `stage_run` ADD `bytes_sent` BIGINT NOT NULL DEFAULT 0;\n        ALTER TABLE `stage_run` ADD `previous_release` VARCHAR(1024);",
        "downgrade": "ALTER TABLE `deploy_task` DROP COLUMN `package_size`;\n        ALTER TABLE `deploy_task` DROP COLUMN `package_files`;\n        ALTER TABLE `deploy_task` DROP COLUMN `package_sha256`;\n        ALTER TABLE `stage_run` DROP COLUMN `bytes_sent`;\n        ALTER TABLE `stage_run` DROP COLUMN `previous_release`;",
    },
}


async def upgrade(db: BaseDBAsyncClient) -> str:
    return SQL[db.schema_generator.DIALECT]["upgrade"]


async def downgrade(db: BaseDBAsyncClient) -> str:
    return SQL[db.schema_generator.DIALECT]["downgrade"]


MODELS_STATE = (
    "eJztXWtz4rYa/isePm1n0t0suTZz5swQcLI0CXCAtD3ddDzGCHBjZGrLyaY9+e9Hku8XOR"
    "YXx3j1ZWcj6RX2I+nVe/c/jYWp2+hja7WyzCfVaFxI/zSgugT4P8muA6mhrlZBB/kbqROD"
    "DlWjgyY2slQN4faZatgAN02BrVn6CukmxK3QMQzSaGp4oA7nYZMD9b8coCBzDtACWLjj61"
    "f8I/YjmdcCTzp4xq1//IH/0uEUfAM2GUL+XD0qMx0Y09gL6FNCR9sV9LKibV2IruhA8gQT"
    "RTMNZwnDwasXtDBhMFqH9D3nAAJLRYBMjyyHvBJ5Yu/t/bd0nz4c4j5ihGYKZqpjoAgEEy"
    "VsayhKrz9WRvJYURocoGkmJIDjR7Xp28/JI/zY/Hx8dnx+dHp8jofQxwxazl7dnw6BcQkp"
    "PL1x45X2q0h1R1CMQ1CDZUhB216oVja2UZoEwvjRkwj7eOZB7DeEGId7rQyQl+o3xQBwjh"
    "b4z8/N8xxIf2kN219aww941A/kJ018ONxT0/O6mm4fwT3EeQo03SaPlYmzDJ0lxbqLn0uF"
    "GkhhHqWvMuaN1mAw7P8iX0guEwEPcCj/LLfHF5IF/gQaPYDcK3JaZEFO2etxmlwOzVwugc"
    "sN4qsxBt8YHCVCUt4CNBo72vI5gI7l38Zk5qVt/2VEgfxw1/qNYrx88Xpu+71rf3gE+PZt"
    "/zIJuAUINIqagXkH9yB9CRi4xygT0E890o/+f6pzEopzH/yC0z40XryrJW9punfyaNy6G8"
    "TWp9May6SnGVsbv/VD8lwEk0i/dsdfJPKn9Hu/J1N4TRvNLfqL4bjx7w3yTKqDTAWaz4o6"
    "jdyCfquPWmzVyWWvcN3bEYq3L+99WNwt3N9EIpo9Zl7fvjQVR/fKtIA+hzfgJXWpJEB1hc"
    "IOWBnmy9iba88QfvW3kN8a7k1LfQ7kyOjOwgBMgQEQhWCIN/mw28ZAE5wnqvb4rFpTJQY4"
    "6TGbZqIlGJvuWjaXyRYVqnOKDnkN8tCeQO5MdSQ/AfrcKWk97MyV18kwBQTj3hLZG1gLAH"
    "D6o4mZDr6WNdOaSuZMel6YkrZQIX5M/H8VHUgzy1zi/wILfEze2+vOkaEUCAXgHRUA/gtZ"
    "XMT7dxFjbmBy6XgBQZWVjSopeE+6yoOvN7yO6G5dWcN7kak5M3fvHujKawJ8elwA4NNjJs"
    "Ck6zUhplv4NuYBOKSoIcDNk5MCCONRTIhpX9IAhFTdsNMg/zzq97JBjpAkb1tdQ9L/JMMT"
    "BHdiefjXzIH0GEkTRzeQDu2P5Gf//Q4WCQJRvkUiaXxI3KBkgsssTepdRP6IupUW+eO6GF"
    "Pkn9Jhiq//bdtKD+CTbpnQN3hBZzkRpvp3ltS9RSgObEggTCkBviGej/g91jXH+7QlWoLd"
    "E8/JfRsdeXDb/++F5FI/wGH/9vay1b65kCzTMAg7q4ZB/glYbPcIQ4QOSYQQUkwIscCMz9"
    "E3E+gWR5d4iHSk2AsuTTBOVUOst6+v+JA5E9+jyAt2SFkDX14c7pPPzQJ441FMwGlfHPGl"
    "OQXr3pU+bYlIz/AEvDfl1f3tLZ4MUz7AdqvXGuJbU8MSvPVSjRvSfRbFBha5+Hj0yDRlNd"
    "RJ8nt7rU4exLQ381FZWUCZms/QMNUM0ZIdW5BJXAPOVHaUgYsjXqkNViFJLZZhzWUg2znQ"
    "WfhPQkAqFmCTc7DmCsRpxRKstwS26Vga4Lqsk3TVuKr33vIbXRpoogxhln0i/PHiFHCfAg"
    "vgl7YRb3xxhKiGCvF36X9uaIZejgK8fdULK7bIyeDixfTfkLrKe7kxkHudbu9acQO4W1gX"
    "JvFdGHbFTwd5gKP2F7lzfyt3LiRbW4CpY4DpA/zPvXxPmvDjOeTv4X2vh2e6kCwHQjxBUp"
    "/G89y327LcofM4mgbAlNBdtbp06pmq03kxVVu+pU0aQdagrW44OWl0A8pJW7c3lofD+wFt"
    "xrsCWJazoj133dGINC512wbTdTT5oyLmlCO2NeUoZUwJoFsjGjpJu4UwLM9HVhVeuSdRVz"
    "4muWFXIuqdfcjqG2yHGb613qrHKcXZrvLZnulQtxdrLXOCVKxzldfZ95MryORSYuJka4l+"
    "FVvVElyoK4yYOgfEG9o8OeXBO01ZA3V9147UADT97wyLyKU+Z8YWJSnLizA63BXWbnjRT8"
    "3m0dFZ8/Do9Pzk+Ozs5PwwiDNKd+UFHF12r0nMUWwt0kFIPo4zrPJkaJhv4h/Q1WYBthbf"
    "ZRuE/ZJkJAgMHlaSIqwf894+K3FBQwwrSR7QaH3byHeGsQFUGyjmM+SzpybI6of0TgyqLm"
    "oORHoG88iX7xOkQr6vsnwfCXXnS1VPE4ow67cz1hOZBXGseRPX5fhke4Z00cz19EbjTmCP"
    "JNN5xvyMi/rSI726GQJDZWTQpctI1QT1pAkPC9eWAzeDaUSmGTqwTjDtMDEqepzTmVGJw8"
    "5MjUpwmG2nRuGN78cO0+cTSVHvmhSlLhmByYxYDm98lV2xldE3vCTDlYrn58A4QVZDqD8f"
    "NouATYaxVQ7amUxswI+nWKbJmdQQpSrR7PmJHMtP9OfLsYDuCnd3x3KG1ceIqhGmV6uIer"
    "/MJNeixIjEomx9UQL1QSFReroFeISabGJhuU5aricq0hYMpwwT3DiRADUJKgLLFVbX8E1J"
    "SpZlqHWmaQAVZoObJk4APMHUu0I4aCmXf1z2+7cx/nHZTUb83t9dyvi6pcwED9IRw8sFIH"
    "n/DFaRC3qEqkS0fe1ob8EWQWdsnlLfoDPPLMFnwo4TCfP12+briPVnM9P1IJxozxAuaraO"
    "b64NTNakyNFmdthaFrjd1BIbsXazcsrvVPgyNsm/xTb1iE60DsbvaqTM2dGkeIGhxA3R4V"
    "taZOPhCzPDueWiaVp0KR7BS4izdyCCdfI6014etLBMZ75IdtrBz8fOVLs1arc69GpRUui/"
    "5pndv5jm49gTcBtpu3us+yDH8E5TF1F05FZN78LO/o52dqQjg8vQHhBsxx75vuDuPtqEOh"
    "yz8S2UYTavvFejMRjKSqf/a++23+pcSNFqFw9w0B+No53RIgy4l1B6hczC2gA+ld8RT1mv"
    "QpoXefn0mrITjUOKKi/kVqKEdvmNkUmGdSfHexKjqgXwJfArYWRgo18vI0NKGWarbDsMDb"
    "kDSM2QTWlzvkyKW5SlP+zNL2OMlqphSFgk//SkGg7AwzRkS+rEdJCEFrotEQlpotpA+gA+"
    "zj9KqqQtgPYoeaNNC48Ckg3wLkc/pD+asf3pNxCUieLBwSi94bWT57YVN8EWnunq8QgCAU"
    "EtrqMy5IBqcCnfqJdmVBFzH5NXRWyLQnOujeZsG86ch8364wWfZfDZaITIylQciyu5K0pT"
    "C+5aVoQUfWxlYqlQ44wGTFKWGKG2xDA1SgF+J+nQjwCsFAvQfCKe7NAUXXmuvZNKs+mIAs"
    "ufF1rrjNCdWAlE3IeI+6jEVq+XSSa66nMdEQ8iX9xHnGity6FqzGy3YR8eYGmIecM+RqMv"
    "N+48+4Vv0aCP+M7aIOgj5UpfN/ajnjmiu0zD8/Zo2ogRbl6mDcO2F/5BETaMveJ+Bzk2jP"
    "fNsqu1DcOx+Yp5+ONraLvYQX0rS3/CaNAbCUDNeiFFYXkM8cwJagF/2Q76lTMxdC1bkMpZ"
    "gxiVAH4N4Gf4YYCFN3NW0Q02r0mQ1QJ6YfWIIS2sHsLqsSdWDw4Xb1xx9/yqm6mRxfM19k"
    "Rzj8cqsjIAeIrdrB38X1WEdqlju2Bl6NgBimwdOxwiVOzSmKlQscsRyXbiSMU3C758uIqT"
    "RkhqKPjupnq3aWVIYezsU294ec7pZrPS3CF6F9gMh0Peh/tCmjr4p8tWkjEMIKssIrvYTE"
    "ghKs3kL8calWa4yxyLAsd8ZgoE1CUPvv54Aa+wAgkr0P7IffWyAkVX/U9nueILfIlQiKiX"
    "9DHiDiTaMIiocmdlt1FE5UYQVQ3coiFEb4YPJVnAFjAtarqs2PkvCmmE7W0QkkVmyRRodm"
    "Aj3hOg0zUcSi0avy8obWhILxoVyFuuaMPQwH2qWZR41WThoqj/J16zKF2WKFm4KFbVaDs1"
    "i4JNw3Sf+Gckw4ESOT5sF4p/VLfvRflK65VRhcUvy+IhJD4X8O5elu+gzA7WqYbjC4l+St"
    "grncMouhO2Fy7E02rftK5l3O5+fvAB3g/cgc4qv1SP37YnpXsiBzZzszBSd+NktfsA6U6c"
    "RrRuNQerC8aLEtepL14iFTkMJ2ch9uZRl7hxVwBOCUScTG4g9zrd3jVmHS79Axze93q0BV"
    "/qkLaM7tttWe7ImDvZjqYBMAWYQV21urekaabqBvl7dNMdDOiYR33lqTfc9uPTIubjpKEs"
    "Yj0+zSgHJz4hz+0VrJD50sdEfEJerHMDfNOxCsRgzuzvS8aphL06feGZDlo5XCUWQ4oaSG"
    "dlR0gAyzIzXPJstAMCATZ/sgz5lJHp2H4dDx5FJIu2hm77HdW6mbyQD73YmV+ovdTnbM0k"
    "Rlcb9eSnZvPo6Kx5eHR6fnJ8dnZyfhiw7XRXHv++7F4TFh5biQwlJmpOLHhVxmjERZnx8S"
    "PVfuSDNEIhXLtvu3Z9m+9mfshafqfiIOGMjOysAg7e0HMgXLx5qMZYILeTd4eZLi1g6dqi"
    "kXbUeB0HOW4aNRwiMl32iVMe5PhgiKPR838XlWcjJFX2vVTJrE7OFAfC3vAaovv58LCQkn"
    "CYoyMcpj/UDFGmfsBOFoiQlJ8t8D6Guq3lBXCk/m7/Jnv9PzNIuZs="
)
