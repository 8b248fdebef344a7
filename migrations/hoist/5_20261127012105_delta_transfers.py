"""5_20261127012105_delta_transfers.py: written by scripts/make_migration.py with SQL for each dialect."""

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True

SQL = {
    "sqlite": {
        "upgrade": "ALTER TABLE \"stage_run\" ADD \"transfer_note\" VARCHAR(255) NOT NULL DEFAULT '';\n        ALTER TABLE \"stage_run\" ADD \"files_sent\" INT NOT NULL DEFAULT 0;\n        ALTER TABLE \"stage_run\" ADD \"transfer\" VARCHAR(8) NOT NULL DEFAULT '';",
        "downgrade": "ALTER TABLE \"stage_run\" DROP COLUMN \"transfer_note\";\n        ALTER TABLE \"stage_run\" DROP COLUMN \"files_sent\";\n        ALTER TABLE \"stage_run\" DROP COLUMN \"transfer\";"
    },
    "postgres": {
        "upgrade": "ALTER TABLE \"stage_run\" ADD \"transfer\" VARCHAR(8) NOT NULL DEFAULT '';\n        ALTER TABLE \"stage_run\" ADD \"files_sent\" INT NOT NULL DEFAULT 0;\n        ALTER TABLE \"stage_run\" ADD \"transfer_note\" VARCHAR(255) NOT NULL DEFAULT '';",
        "downgrade": "ALTER TABLE \"stage_run\" DROP COLUMN \"transfer\";\n        ALTER TABLE \"stage_run\" DROP COLUMN \"files_sent\";\n        ALTER TABLE \"stage_run\" DROP COLUMN \"transfer_note\";"
    },
    "mysql": {
        "upgrade": "ALTER TABLE `stage_run` ADD `files_sent` INT NOT NULL DEFAULT 0;\n        ALTER TABLE `stage_run` ADD `transfer` VARCHAR(8) NOT NULL DEFAULT '';\n        ALTER TABLE `stage_run` ADD `transfer_note` VARCHAR(255) NOT NULL DEFAULT '';",
        "downgrade": "ALTER TABLE `stage_run` DROP COLUMN `files_sent`;\n        ALTER TABLE `stage_run` DROP COLUMN `transfer`;\n        ALTER TABLE `stage_run` DROP COLUMN `transfer_note`;"
    }
}


async def upgrade(db: BaseDBAsyncClient) -> str:
    return SQL[db.schema_generator.DIALECT]["upgrade"]


async def downgrade(db: BaseDBAsyncClient) -> str:
    return SQL[db.schema_generator.DIALECT]["downgrade"]


MODELS_STATE = (
    "eJztXW1z2rgW/isePnVnst2UNC+buXNnCHFbbglwgexbs+MxRoA3RmJlOWl2b//7lWQbvz"
    "sWL8Z49aXTyDrCfiQdnXP06OjvxgKZNnnbWq0wetKtxrXydwPqS0D/E390ojT01Wr9gP1N"
    "9InFq+rhShObYN0gtHymWzagRVNgG9hcERNBWgody2KFyKAVTTgPihxo/ukAjaA5IAuA6Y"
    "MvX+iP2I+sXQyeTPBMS3//nf5lwin4CmxWhf25etRmJrCmkQ8wp0yOl2vkZcXLOpB84BXZ"
    "G0w0A1nOEgaVVy9kgeC6tgn5d84BBFgngDVPsMM+ib2x9/X+V7pvH1RxXzEkMwUz3bFICI"
    "KJFpQ1NK3XH2sjdaxpDQHQDAQZ4PRVbf71c/YK3zffvb98f3V28f6KVuGvuS65/Ob+dACM"
    "K8jh6Y0b3/hznehuDY5xAOq6GxLQthc6Tsc2LBNDmL56HGEfzzyI/YIA42CslQHyUv+qWQ"
    "DOyYL++a55lQPpT61h+1Nr+IbW+o79JKKTw501Pe9R033GcA9wngLDtNlrpeKsQmfJse7Q"
    "99KhARKYh+WrjHmjNRgM+z+p14qrRMADHKr/UdvjawWDP4DBJ6Bwj1wU6ZCL7P64iHeHgZ"
    "ZL4GqDaG+MwdcMjRISKa8DGo09DfkcQMfqL2PW8tK2/7TCQL65a/3CMV6+eE+6/d5Hv3oI"
    "+Ha3fxMHHAMGjaanYH5LnxBzCTJwj0jGoJ96om/9/1RnJhTXPvQDp31ovXhLS17XdO7U0b"
    "h1N4j0z21rrLInzUjf+KVv4vNi3Yjyc2f8SWF/Kr/1eyqHF9lkjvkvBvXGvzXYO+kOQRpE"
    "z5o+Da2CfqmPWqTX2WKvCa3bIYnXF+9j6NwdrN/MIpo9pi7fvjUVRfcDwsCcw8/gJbGoxE"
    "B1jcJbsLLQy9hr68gQ/uYPIb80GJtYf17bkeGRRQGYAgsQDsGQDvJhp02BZjhPdOPxWcdT"
    "LQI4e4KaKFayrpt8tGwu4yU61OccHfYZ7KU9g9yZmkR9Avy9E9Z68DDXXmfVNLCu95rJ3q"
    "BeAIDT7xFVOnRZNhCeKmimPC+QYix0SF+T/l8nJ8oMoyX9L8DgbXzd3rSNFKdAOgAHdADE"
    "F2S5EB/fQky1ARLy8dYCVXY2quTgPZm6CL5e9Tqiu3NnjY7FTM85c/Qega+8IcAX7wsAfP"
    "E+E2D26FvMTMd0NRYBOJCoIcDN8/MCCNNamRDzZ/EAENFNy06C/J9Rv5cOckgkvtqaBlH+"
    "p1ieIbiXyMO/Zg7k00iZOKZFTGi/ZT/77wNEJBhE+RGJePAhtoKyBm7SPKmDmPwhdytp8k"
    "d9sUyTf8qrab7/t+soPYBPJkbQD3hBZzmRofoDW+peJxQHNhCQoZQ1vgGej/Q7Ng3H+7Il"
    "RoLdGS+ofRu36qDb//VacaUf4LDf7d602p+vFYwsi6mzagTknwDO3h7JMKEDEWmEFDNCMJ"
    "iJbfTNJLrF0WU7RCbR7IWQJxiVqiHWu/dXfMicib+jKAp2IFmDvbwo3OfvmgXwprUyAefP"
    "oogv0RRsulb6siUiPaMNiK6UH+67XdoYlXyA7VavNaSrpkEtePxSjRXSfRfNBpgtfCJ+ZF"
    "KyGu4k+72jdidPIt4betRWGGhT9AwtpKeYltncglThGmimslkGLo60p7bohbi07IYNu4EN"
    "57XPIj4T1qKyA7aZBxv2QFRWdsFmXWAjBxtAaLGOy1VjqT76yG+4ayAiKcZs9ozw68tZID"
    "wLMKAfbRNRfnFIqIYO8T9y/7lhWGY5DvDuXS/q2BInRYsX838D6SqP5cZA7d12eh81l8Dd"
    "or4w43dR2DX/OMgDHLU/qbf3XfX2WrGNBZg6Fpg+wP/eq/esiL6ew/4e3vd6tKVrBTsQ0g"
    "bi/vQDHLTuR0xipTs2kxjdt9uqesvbdQwDgCkr/dDq8J+a6Sb/HdpKW+3yIoMhbfFSl17O"
    "Cl2COSvr9MbqcHg/4MV0lACMnRV/ctcZ8V9emjb95U08+7Mi4ZWz7OjKWSK4soZyA3Z0XH"
    "YHtCxvz6wquvNIWFg+Jvk0LAgRta026um4rOzpKvc0BkuG4iYdHROV/VztftbttG3LbG8i"
    "kJD+hDxGtEMjuL7sZWpB4816PSopVWmVVenMhKa92KibY6Kyn6vczz7xSCNIKCoUFdto8a"
    "xYr5bASVlRxPQ5YPSS5vmFCN5JyRrYK/tmpqxBM/9KCTHfmPNMsmZcsjzK5um+sHb5mj82"
    "m2dnl83Ts4ur8/eXl+dXp2viZvJRHoPzpvORkTgjfZFkdfo4zkwrbePlVfzXcrXpgJ0RZm"
    "2LqV92uhMCS0SVJATrp7x3r0pc0EhG2DkPaLJ5sPkfhrFFfXGgoWcotkEVE6sf0nvZoXJR"
    "cyAxU5RHvn0fE5X2fZXt+5WlQ43/IWJthoWkofm6ocnwsglYCZFLolLVoJbUigXKsBUwOv"
    "3q0tZMmvFsZ3iDUFBEUC4UVV4oaFPOEmy0QxYSlH1c5T7m01HbYjc0tQHZ51Xu89DhcbHk"
    "b0lBeXD59RxwsbP6UaxFU8Gp0caODOmiueCSA004JVyI1OPR41Is8RtP9MPnIbD0jJw0yc"
    "TMNUE9voc7p3rcgdvBNGLNDB1YJ5j2mWrEnAObMLxSMo2sn53kJRrhtVjH8WqvpxZUMODh"
    "GsWVVMhCJ8qzbitsmQHTa8WwdLpET5XJi0L9P4CpFzintUxbwej5RLGRYhLF9OsryOfURp"
    "IP7uNXHiBLochyFULFpv/FuqVMEFHoxDSAbQNbmZkY0EaAYlMk1xTYrLyGXxpUcp3z2OEG"
    "q0yhcsgUKl4nCJqggVQNaUN1MjyFA/nbhfCr1pUlxPAl/y4b/fry77xlTMyZiwpJR+51Ry"
    "5kLWznxA2Cho4M4aIOXHRwRZy3dmvUbt2qB0rnHfafkyZ3zLvONLpjLv2us/uFBhp/P2mU"
    "HjSvn+BWafm7pEfM8PDyZK502r4AxjGxGkL97rRZBGxWLdtA5A/jubno62kYIcG8XGGpEv"
    "f/f2DT8gf+8/vagy4Hd3fECmaGighJOkDEHN8FHcC/KU2oUyJCslN23inreL3GEk2YGIgY"
    "NenCkr8R529MdGIsMmjwmeBGhSSocVAJWK4s+u22xm7dSdlHQcgCOkwHNykcA3hCpfeF8L"
    "qkXP1x0+93I/rjphM/ZHp/d6PS5ZYrE1rJdJ3IJPYLoFtkoRkLYKTcuJWTzykmt5VCPx7S"
    "wn6WU2RZyCEaozGKLalxwWosq7XKquVj7H+IgPWfIlo/Tv3ufVvWvJsbR2CNjQrJNTau53"
    "kgPJwbX2CJTcjKFVZghY0w/UTuuUgKljes312dHsvIBpB9aIquyB3TIakSR7Mf3z3awSw3"
    "SrPHtdwolRulcqP04BulYixXdtPYdtTNWt4yLUbeDB2GRanWpSfWh2CM6D+vYhraUO56LR"
    "6Xj5SLa3TbPcQlzroD406HL2PE/i02/0e8oU2G40F3pHMmP7tsxdKirIPgKzEbT9S2SDk6"
    "4KKJMB+1j+AlwNnTHesh7T1McujJAiNnvog/tNc/n8rToOVaAv1vBTkWfNDn8iz8aVGEa6"
    "H5s/J1mvMILQGCQFkgOjoVHSqhZuj7Iu/CNYUnILMZZxgDhR9g93jHDmQ/xpjHWAFfVyY1"
    "QpJ3rO/tV+Qt7NXigLAOFqOuBhJ1JCfsg7sqU3Vmuln7SNW5UaIPmeLj0G5uIaK9jG5kK7"
    "L6RjeedZOdohLZeAuJVGPLrVZMlsodtD56Gy0RdBIhkRc8ku0796UcyK6qnypyHDud0b8N"
    "S/8TQo9jjw/TSLqPkccnOb4jv6yLhGvulKkvXbIDumTEJJYQL38tsBtn4bDg7t8d4wkB0v"
    "EtdKfSvPKHIBqDoard9n/udfstdtlR6H7XBzjoj8bhh+FrR+lTJqkOuv1fPTke5/Gl/AfR"
    "SxqrcJER+3gRDzuQqHJHVtbH9r2pSQoZNOewRUSqFsDLo8/S592Zz7uVE7AzG/UOED3FNu"
    "XF+TYpLdGWfrXXdzKWumUpj+DlhyfdcgCtZhBb0SfIIW6+FGYhTViqlTfg7fytoiucy6x4"
    "tRF2E6IAOsrJdylbGDtvfgtDmW1dCShKr3rt7LldUVGzjWfeeyKGwFqgFstRGXZANbSUz6"
    "BJKqoQtyZTV4WIPNJzro3nbFtOSpA479YCJy1CLPVskvKPwQppDha6fSMsUwvtWtaBav7a"
    "2gTr0BBMHhCXLHH7eElh2tf+Rgn3VT0CsNK83H4i1/ck5Mrj0Z5XWk2HHFjxi3tqfWXPXq"
    "IEXrpMA6cxTXJURlRMgi0CNoua/IWgULA+RbREJX0/bpejo3dvgchTRPIUUSXUS71ijuFe"
    "n5uEkazFKB1RoY2sn6otIPs9ROQBloRY9BDRaPTps9vOceFblJ0RHVlbHCFy19wtDxGFk5"
    "YfmcrKPOuSwenaDql63uSwz2T53kROhjKDGZ4ZybTtha9NZCTzqJaIk5xI5mFTc9Y6kunY"
    "Yudd/Po1jGDu4XZIbD5RNPiyDaCBX1YkzWXL3o7LbKAW8JdN01k5E8s00q3NnD6ISEngNw"
    "B+Rl8GYDqY03jY2bomJlYL6EsIx8nQkAwNVWKo1ys0JED0iEY3PHbFdm5k8RQpRxLeiDKW"
    "szJJiFxJt3ESiaoitE8f2wUrxcdeo5jtYwdVpItdmjKVLnY5Jtle6BR0ZaGLT4p+ywY4JF"
    "JDw3cvKK8QTrHCshO+edXLo6g0m5XWDuG1wM7Ylcn2k8MydSBOlO0kUxhA2uXF2af6Awl5"
    "qD+/OzY41F/yJZYVG/wlhCkI0Jci+Pr1JbwyCiSjQMdj99UrChTu9T+c5UqMHRSSkNSg5D"
    "QSZlttybSq3FzZL9WqXJpV1cAtyrN6lWMVVwE7wLRo6LJi878opCG1twVvjbWSatDsIUZ8"
    "JEAnM7lo2Em7k0kEI9ZMMWbfsaC0ZSC9KCtQNO11TXOKpeW+jn1qPAF2eP8nmvs6mZMsng"
    "A7kh17N7mvg8znWdsn/hxJ2UAJTZ/sLRR/qu5+F+ULvyKAOyx+ciYPIXnH+MF3Wf4Bybao"
    "TzUcX7up0L0EWhmpt4Lywum4Wu3PrY8qLac6gILxAO8HbkVnlZ+wyy97LYHXA/yktrrjT9"
    "eKe2Fko9iw2XdCr9AETh086bMyJlaD5NklbCLxy28FVN+6vrzDL+7OUx1AnIxNz0LqzpMu"
    "ceCuAJx6iZJFlN5A7d12eh+pKnHlH+DwvtfjJXSRh7xkdN9uq+qtSrWV7RgGAFNAFdaHVq"
    "fLity7IGmtz53BgNd5NFeeuyMcT74oEk6OB85C0eSLlCSReLP4ZlRSppOvcjr5mQlNe7FR"
    "N8dEZT9XuZ/BV5O6RBnKOTtZeVRKxq+TCx5yyMoRSrwaSNTAOiubMQEwRilb9NlorwUk2O"
    "KHZzB4MpFj+9l9RByRNNkabuPvKQPW5IUAW7NTLzG4MefZnklErjbuyY/N5tnZZfP07OLq"
    "/P3l5fnV6VptJx/l6e+bzkemwiM9kdTpM2qXZ6GfCX1UqDbQ72yhpE1DeybGrwrL1EB/R3"
    "VHEQJQNv0nya3ysKImIBG7PCEuWDuk9xI0iuxBFNQRERlpTacoCd1+FIM0JCH5IK/zQfyN"
    "ou3IC7W8T/okxmAIjawCrJBgu1HyQvJQjahAYWbIHo/HtQA2jUUjubvrPTjJ2dvVgyryeN"
    "wxacqTnI1bxk4wxXKJhkSqvGFbJTOKzSkBhL3qNUT33elpoUjCaU4g4TRxcw6CJNWNzT5h"
    "FBIp/4jRYaL5OztMJJAvYPcr2bf/A6dHtVc="
)
