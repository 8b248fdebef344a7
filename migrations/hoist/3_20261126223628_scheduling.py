"""3_20261126223628_scheduling.py: written by scripts/make_migration.py with SQL for each dialect."""

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True

SQL = {
    "sqlite": {
        "upgrade": 'CREATE TABLE IF NOT EXISTS "digest_run" (\n    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,\n    "due_at" TIMESTAMP NOT NULL,\n    "owner" VARCHAR(128) NOT NULL,\n    "created_at" TIMESTAMP NOT NULL,\n    "project_id" INT NOT NULL REFERENCES "project" ("id") ON DELETE CASCADE,\n    CONSTRAINT "uid_digest_run_project_cc6503" UNIQUE ("project_id", "due_at")\n) /* A release digest that was posted: claimed by inserting this row, so it is posted once */;\n        ALTER TABLE "deploy_task" ADD "reminded_at" TIMESTAMP;\n        ALTER TABLE "deploy_task" ADD "reason" TEXT NOT NULL DEFAULT \'\';\n        ALTER TABLE "project" ADD "digest_cron" VARCHAR(128);\n        ALTER TABLE "project" ADD "digest_timezone" VARCHAR(64) NOT NULL DEFAULT \'UTC\';',
        "downgrade": 'ALTER TABLE "deploy_task" DROP COLUMN "reminded_at";\n        ALTER TABLE "deploy_task" DROP COLUMN "reason";\n        ALTER TABLE "project" DROP COLUMN "digest_cron";\n        ALTER TABLE "project" DROP COLUMN "digest_timezone";\n        DROP TABLE IF EXISTS "digest_run";',
    },
    "postgres": {
        "upgrade": 'CREATE TABLE IF NOT EXISTS "digest_run" (\n    "id" SERIAL NOT NULL PRIMARY KEY,\n    "due_at" TIMESTAMPTZ NOT NULL,\n    "owner" VARCHAR(128) NOT NULL,\n    "created_at" TIMESTAMPTZ NOT NULL,\n    "project_id" INT NOT NULL REFERENCES "project" ("id") ON DELETE CASCADE,\n    CONSTRAINT "uid_digest_run_project_cc6503" UNIQUE ("project_id", "due_at")\n);\nCOMMENT ON TABLE "digest_run" IS \'A release digest that was posted: claimed by inserting this row, so it is posted once\';\n        ALTER TABLE "deploy_task" ADD "reason" TEXT NOT NULL DEFAULT \'\';\n        ALTER TABLE "deploy_task" ADD "reminded_at" TIMESTAMPTZ;\n        ALTER TABLE "project" ADD "digest_cron" VARCHAR(128);\n        ALTER TABLE "project" ADD "digest_timezone" VARCHAR(64) NOT NULL DEFAULT \'UTC\';',
        "downgrade": 'ALTER TABLE "project" DROP COLUMN "digest_cron";\n        ALTER TABLE "project" DROP COLUMN "digest_timezone";\n        ALTER TABLE "deploy_task" DROP COLUMN "reason";\n        ALTER TABLE "deploy_task" DROP COLUMN "reminded_at";\n        DROP TABLE IF EXISTS "digest_run";',
    },
    "mysql": {
        "upgrade": "CREATE TABLE IF NOT EXISTS `digest_run` (\n    `id` INT NOT NULL PRIMARY KEY AUTO_INCREMENT,\n    `due_at` DATETIME(6) NOT NULL,\n    `owner` VARCHAR(128) NOT NULL,\n    `created_at` DATETIME(6) NOT NULL,\n    `project_id` INT NOT NULL,\n    UNIQUE KEY `uid_digest_run_project_cc6503` (`project_id`, `due_at`),\n    CONSTRAINT `fk_digest_r_project_b5487ade` FOREIGN KEY (`project_id`) REFERENCES `project` (`id`) ON DELETE CASCADE\n) CHARACTER SET utf8mb4 COMMENT='A release digest that was posted: claimed by inserting this row, so it is posted once';\n        ALTER TABLE `deploy_task` ADD `reason` LONGTEXT NOT NULL DEFAULT '';\n        ALTER TABLE `deploy_task` ADD `reminded_at` DATETIME(6);\n        ALTER TABLE `project` ADD `digest_cron` VARCHAR(128);\n        ALTER TABLE `project` ADD `digest_timezone` VARCHAR(64) NOT NULL DEFAULT 'UTC';",
        "downgrade": "ALTER TABLE `deploy_task` DROP COLUMN `reason`;\n        ALTER TABLE `deploy_task` DROP COLUMN `reminded_at`;\n        ALTER TABLE `project` DROP COLUMN `digest_cron`;\n        ALTER TABLE `project` DROP COLUMN `digest_timezone`;\n        DROP TABLE IF EXISTS `digest_run`;",
    },
}


async def upgrade(db: BaseDBAsyncClient) -> str:
    return SQL[db.schema_generator.DIALECT]["upgrade"]


async def downgrade(db: BaseDBAsyncClient) -> str:
    return SQL[db.schema_generator.DIALECT]["downgrade"]


MODELS_STATE = (
    "eJztXVtz2zYW/iscPaUzburI8aWenZ2RZSZRY0teSW67jTscioIk1hSggqAdt5v/vgB4v5"
    "rQhaJYvGRiAAciPwAH586/Wwtk2uRtZ7XC6Em3WpfK3y2oLwH9T7LrSGnpq1XQwf4m+sTi"
    "Q/XooIlNsG4Q2j7TLRvQpimwDWyuiIkgbYWOZbFGZNCBJpyHTQ40/3SARtAckAXAtOPLF/"
    "oj9iObF4MnEzzT1t9/p3+ZcAq+ApsNYX+uHrWZCaxp7AXMKaPj7Rp5WfG2HiQf+ED2BBPN"
    "QJazhOHg1QtZIBiMNiF/zzmAAOsEsOkJdtgrsSf23t5/S/fpwyHuI0ZopmCmOxaJQDDRwr"
    "aWpvUHY22kjjWtJQCagSADnD6qzd9+zh7h+/a79+fvL07O3l/QIfwxg5bzb+5Ph8C4hBye"
    "/rj1jffrRHdHcIxDUINlSEHbXeg4G9soTQJh+uhJhH08iyD2G0KMw71WBchL/atmATgnC/"
    "rnu/ZFAaQ/d4bdT53hGzrqO/aTiB4O99T0va6228dwD3GeAsO02WNl4qxCZ8mx7tHn0qEB"
    "UphH6euMeatzdzcc/KxeKi4TAQ9wqP6kdseXCgZ/AIMfQOEVOSuzIGf563GWXA4DLZfA5Q"
    "bx1RiDrzkcJUJS3QK0Wjva8gWAjtVfx2zmpW3/aUWBfHPb+ZVjvHzxem4G/Y/+8Ajw3ZvB"
    "VRJwDBg0mp6B+TXtIeYS5OAeo0xAP/VI3/r/qc9JKM996AtOB9B68a6WoqXp3aqjcef2Lr"
    "Y+152xynrasbXxW98kz0UwifJLb/xJYX8qvw36KocX2WSO+S+G48a/tdgz6Q5BGkTPmj6N"
    "3IJ+q49abNXZZa8J3dsRitcv70NY3C3c30wimj1mXt++NBVH9wPCwJzDz+AldakkQHWFwm"
    "uwstDL2JvrwBD+5m8hvzXcm1h/DuTI6M6iAEyBBQiHYEg3+bDXpUAznCe68fis46kWA5z1"
    "oDZKtARj013L9jLZokN9ztFhr8Ee2hPInalJ1CfAnzslrYedhfI6G6aBYNxrInuLagEATr"
    "9HlOnQa9lAeKqgmfK8QIqx0CF9TPp/nRwpM4yW9L8Ag7fJe3vdOTKUAqkA7FEBEL+Q5UV8"
    "eBcx5QZISMcLCOqsbNRJwXsydRF8veFNRHfryhrdi7mac+7uPQBdeU2Az96XAPjsfS7ArO"
    "tbQkzH9DYWATikaCDA7dPTEgjTUbkQ876kAYjopmWnQf5pNOhngxwhSd62pkGU/ymWJwju"
    "xPLwr5kD+TFSJo5pERPab9nP/nsPFgkGUbFFIml8SNygbIKrLE1qLyJ/RN1Ki/xxXSxX5J"
    "/yYZqv/23bSg/gk4kR9A1e0FlOpKl+z5K6twjlgQ0JpCklwDfE85G+x7rmeJ+2Qkuwe+IF"
    "uW/rWr27Gfz3UnGpH+BwcHNz1el+vlQwsizGzuphkH8CON89kiNChyRSCCknhGAwE3P0zS"
    "S65dFlHiKTaPZCSBOMUzUQ6+3rKz5kzsT3KIqCHVI2wJcXh/v0XbsE3nRULuC8L474Ek3B"
    "unelT1sh0jM6gehN+eH+5oZORikfYLfT7wzprWlQCR6/1OOGdJ9FswFmF5+IHpmmrIc6yX"
    "7voNXJo5j2hh61FQbaFD1DC+kZomV+bEEmcQM4U9VRBi6OdKU2WIUktVyGNZeBbedAZxE/"
    "CQGpXIBNzsGaKxCnlUuw3hLYyMEGELqsk3T1uKoP3vIbXRqISIYwm38i/PHyFAifAgzoS9"
    "tENL44QtRAhfgf6X9uGZZZjQK8fdWLKrbEyeDi5fTfkLrOe7l1p/ave/2PmhvA3aG6MIvv"
    "orBrfjrIAxx1P6nX9zfq9aViGwswdSwwfYD/uVfvWRN9PIf9Pbzv9+lMlwp2IKQTJPVpOs"
    "99t6uq13wexzAAmDK6D50en3qmm3xeStVVb3iTwZC1eKsbTs4a3YBy1tbrj9Xh8P6ON9Nd"
    "ATB2Vrzntjcascaladtguo4mf1LGnHKSb005SRlTAujWiIZO0m4hDMvzkdWFVx5I1JWPSW"
    "HYFQZLhuI6C50gletc73XW7SznVb5MGVJIqVImk2xRFGpuDCuVo/B6qx6nlKy0zqx0ZkLT"
    "Xqy1zAlSuc51Xmc//EQjSMg2ECdb6/Ks2apWEJmwoojpc8CCDNqnZyJ4pykbIK/sOj4hAM"
    "38K8PQeGXOc0P2kpTVBe4d7wprN2rvx3b75OS8fXxydnH6/vz89OI4CN9LdxXF8V31PrJQ"
    "vthapGP7fBxnppVlfn8V/4CuMQuwtbBJ22Lsl+X4QWCJsJIUYfOY9/ZZiQsayTE+FgFN1j"
    "c5/sMwtqguDjT0DMXcFAmy5iG9Ez+Fi5oDiZnBPIrl+wSplO/rLN9HMkjEKkCkCWX2wuuF"
    "IBIJO3GsRetBqPHJDgzpsgUh0htNuC5EJEfV85FlXNRXHumHz0Ng6TmJqenqbA1BPWnCo8"
    "I1duBmMI3YNEMHNgmmXeYbmnNgE4ZXRrph0HdUlG3IR7GF48Nery+iYMBva8WlVMhCJ8qz"
    "bivsmgHTS8WwdHpFT5XJi2JCG2BCQaOjTFvB6PlIsZFiEsX0xyvId6zHKpDs4lceIKujwg"
    "qWQMWm/8W6pUwQUejBNIBtA1uZmRjQSYBiUyQDP3hecZMvLUoZFD6jnTqReZR7zaP0FkFQ"
    "+AypGug1apLgKazHbabB1W0pK1DhpPs1H/3mul+9a0xMmYsTSUXudUUuIi1spsTdhRMdGM"
    "JlFbj45oopb93OqNu5VvdU0y+qP6dF7oR2nSt0J1T6bZf4iGw0/nxSKN1rcQ99mZNgm5OT"
    "4I1voMyyfQO/VyxnpdP5BTBOkDUQ6nfH7TJgs2H5AiLvTCbo08fTMEKCyflRqgrjDH5gx/"
    "IH/vOtg8bd3bGC6eExonqkmzUqM9z/XILQosSI5KJsfVECe73Gss1MDESEmmxiGSqSDBWZ"
    "6MRY5ERB5YIbJ5KgJkElYLmy6LvbGiu9neFHQcgCOswGN02cAHhCqXeFcNBSLf+4GgxuYv"
    "zjqpfMMbi/vVLpdcuZCR1kukpkGnsA2ftnsIpC0CNUFaLta0cHC7Y0M+bzFGlmlGZGaWbc"
    "u5lRLEaEFevdLPChkR9qEQt9iEQSIiPj2zc+mgMIxoj+8yqmEXPsjTfjQUYNZuMaN1pHIn"
    "Hyysjd6vBljNi/5c7/iE+0znbcqz234PCzeoWWFrfZh2+J2X6iskVG4J2LJsJ81z6ClxBn"
    "j3cEW9rrTEegkQVGznyR7LSDn8/0ctB2LYX+t5IeCr7pC70U/rEo46nQ/FP5epDQCC0Bgk"
    "BZILo7FR0qkWno8yKvZrHCszdtFnGDgcKjf72oHQeyH2NxO1gBX1dUD7fTnyna2a/IDxnV"
    "y4PCFlgs8COkaKJpfxeRH7LOQaV1DtbKkpD5EftWc0uFqUnrRj4ja65141k3WQyyiCcoQi"
    "L9QFv3A9UuTengZbSU0UkkBKtkQpOv3FeSzlRXPVUkmSk7Hm6TGLdPCD2OPW9SK60+xrqP"
    "CnRHXu+WREduNc5NqmR7VMmISSyhqLaAYDvKwn7B3b06xtPpsvEtVZZ0XvsQwtbdUNWuB7"
    "/0bwad60sl+omEB3g3GI2jndHK/bSXUXpfvwoLyvtUfke8znkdaoOylxfRsEOKOi9kbXVs"
    "X5uaZIRSFIQqxqgaAbxMHJI679Z03o2UgK3JqLeA6BmyKW8ulklpi7b0h73uyVjqlqU8gp"
    "cfnnTLAXSYQWxFnyCHuNnGTEKasETlN+Dt/K2iK8YCGI+KNxphN50Y0F1OvstwYWx9+g0E"
    "Zea6EmCU3vDGyXPbSlLIF5756okIAgFBI66jKuSAenApP4ImzagisTW5vCoSyCM158Zozr"
    "blZBiJi0q+OVkWYsln08lgGKyQ5mCh0oVRmkZw16rSkfhjaxOsQ0Mw9S5JWaH7eElh2pV/"
    "o4Jiv48ArDSvMo5I7dMUXXVxtKe1ZtMRBVa86mmj653uxErgFZsysNjn4BNkEmwRsJnV5C"
    "8EhYz1GaQVMun7cbcaHr19CURmEcksolqwl2bZHKOrPjcJC7IWC+mIE60l/dTtAtltEpEH"
    "WBpi0SSi0ejTZ3eew8K3bHRGfGdtkELk3rkbJhFFS34eGMvKzXXJienaDKlm1kHeZalZ7y"
    "CnTZnhCc+1ZNr2wucm0pJ5UFfEUYElc7+FrRptyXRssXwXf3wDLZg7+IYTNp8oGvzaBtDA"
    "L+x7wiLuuNwJGgF/1WE6K2dimUa2tFmwBjEqCfwawM/owwBMN3NWHHY+r0mQNQL6Csxx0j"
    "QkTUO12OrNMg0JBHrErRtedMVmamT5EikHYt6IRyznVZIQ+aDL2kUk6orQLnVsF6wMHTtA"
    "MV/HDodIFbsyZipV7GpEsp2EU9CbhV4+Qh/gjJA0UPDdzReqEc6QwvILvnnDqwtRabdrzR"
    "2id4Gd45XJ15OjNE0InKhaSaYwgKxP/+Vn9YcUMqm/eDnWSOqv+BNQNdv8FZgpCNCXIvj6"
    "4yW80gokrUCHI/c1ywoUXfU/nOVKLDooQiFDg9LHSDjaasNIq9qdld2GWlUbZlU3cMvGWb"
    "0aY5VkAVvAtKzpsmbnvyykEba3QdwamyVToNmBjfhAgE5Xcqn0w+iHgtKGhvSyUYGiZa8b"
    "WlMsq/Z14lWTBbCj/p947et0TbJkAexYdezt1L4OK5/nuU/8M5LhQIkcn3wXin9Ut+9F+c"
    "I/EcAVFr84k4eQ/ELn3r0s/4BiW1SnGo4v3VLoXgGtnNJbYXvpclyd7ufOR5W2Ux5AwXiA"
    "93fuQGdVXLDLbzuQAl6RA5u5WbJPYYKsAcWyK3Aa8U/FCbC6YLz8qlxSfadnnjg5Ts5S7M"
    "2jrnDjrgCceoWRRZjcndq/7vU/Utbh0j/A4X2/z1vopQ55y+i+21XVa5VyJ9sxDACmgDKo"
    "D53eDWua6abF/h597t3d8TGP5spTb4Ttx2dlzMdJQ1nEenyWURQSr2fPjFPK8vF1Lh8/M6"
    "FpL9Za5gSpXOc6rzP4alIVKIc55xcnj1NJe3X6wkMOWTlChVZDigZIZ1VHSACMUYZLPh/t"
    "gECCLZ4sw74ejhzbr+Yjoohk0TbQbb+jileTF/ZtZTvzowVX5jxfM4nRNUY9+bHdPjk5bx"
    "+fnF2cvj8/P704Dth2uquIf1/1PjIWHluJDCUmak4seVXGaORFmfG9cd1+FIM0QiFdu6+7"
    "dn2b72Z+yEZ+GvYo4YyM7KwSDt7QcyBdvEWoxligsJN3h5kuHYBNY9FKO2q8jqMCN40eDp"
    "GZLofEKY8KfDDM0WiKlQWMkNTZ91Inszo7UwIIe8MbiO674+NSSsJxgY5wnPoIBoIkUz/I"
    "TxaIkFSfLbAfQ93W8gIEUn+3f5N9+z/ISsUj"
)
