"""2_20261126212023_environment_lock.py: written by scripts/make_migration.py with SQL for each dialect."""

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True

SQL = {
    "sqlite": {
        "upgrade": 'CREATE TABLE IF NOT EXISTS "environment_lock" (\n    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,\n    "holder" VARCHAR(128) NOT NULL,\n    "reason" TEXT NOT NULL,\n    "until" TIMESTAMP,\n    "created_at" TIMESTAMP NOT NULL,\n    "waiting" JSON NOT NULL,\n    "environment_id" INT NOT NULL UNIQUE REFERENCES "environment" ("id") ON DELETE CASCADE\n) /* Someone holds an environment: no deploy starts there until it is unlocked or expires. */;',
        "downgrade": 'DROP TABLE IF EXISTS "environment_lock";',
    },
    "postgres": {
        "upgrade": 'CREATE TABLE IF NOT EXISTS "environment_lock" (\n    "id" SERIAL NOT NULL PRIMARY KEY,\n    "holder" VARCHAR(128) NOT NULL,\n    "reason" TEXT NOT NULL,\n    "until" TIMESTAMPTZ,\n    "created_at" TIMESTAMPTZ NOT NULL,\n    "waiting" JSONB NOT NULL,\n    "environment_id" INT NOT NULL UNIQUE REFERENCES "environment" ("id") ON DELETE CASCADE\n);\nCOMMENT ON TABLE "environment_lock" IS \'Someone holds an environment: no deploy starts there until it is unlocked or expires.\';',
        "downgrade": 'DROP TABLE IF EXISTS "environment_lock";',
    },
    "mysql": {
        "upgrade": "CREATE TABLE IF NOT EXISTS `environment_lock` (\n    `id` INT NOT NULL PRIMARY KEY AUTO_INCREMENT,\n    `holder` VARCHAR(128) NOT NULL,\n    `reason` LONGTEXT NOT NULL,\n    `until` DATETIME(6),\n    `created_at` DATETIME(6) NOT NULL,\n    `waiting` JSON NOT NULL,\n    `environment_id` INT NOT NULL UNIQUE,\n    CONSTRAINT `fk_environm_environm_9a35e975` FOREIGN KEY (`environment_id`) REFERENCES `environment` (`id`) ON DELETE CASCADE\n) CHARACTER SET utf8mb4 COMMENT='Someone holds an environment: no deploy starts there until it is unlocked or expires.';",
        "downgrade": "DROP TABLE IF EXISTS `environment_lock`;",
    },
}


async def upgrade(db: BaseDBAsyncClient) -> str:
    return SQL[db.schema_generator.DIALECT]["upgrade"]


async def downgrade(db: BaseDBAsyncClient) -> str:
    return SQL[db.schema_generator.DIALECT]["downgrade"]


MODELS_STATE = (
    "eJztXetz4rYW/1c8fNrOpLtZ8mzmzp0h4N2lS4ALpO1t0/EYI8DFSNSPZNPe/O9Xkt8POR"
    "YPx7j6kgmSjiz/JB2dl47/biyRbtnvW5uNiR5Vo3Ej/d2A6hrgf5JVJ1JD3WyCCvLbVqcG"
    "bapGG00t21Q1G5fPVcMCuGgGLM3UN7aOIC6FjmGQQqThhjpchEUO1P90gGKjBbCXwMQVv/"
    "2GH2KtSL8meNTBEy79/Xf8S4cz8A1YpAn5uVkpcx0Ys9gL6DNCR8sV+3lDy7rQ/kQbkhFM"
    "FQ0ZzhqGjTfP9hLBoLUO6XsuAASmagPSvW065JXIiL2399/SHX3YxB1ihGYG5qpj2BEIpk"
    "pY1lCU/mCijOWJojQ4QNMQJIDjoVr07RdkCN83P55fnV+fXZ5f4yZ0mEHJ1Yv76BAYl5DC"
    "0580Xmi9aqtuC4pxCGowDSlo20vVzMY2SpNAGA89ibCPZx7EfkGIcbjWygB5rX5TDAAX9h"
    "L//Ni8zoH0p9ao/aU1eodbfUceifDmcHdN36tqunUE9xDnGdB0iwwrE2cZOmuKdRePS4Ua"
    "SGEepa8y5o3WcDga/CTfSC4TAQ9wJP8otyc3kgn+ABrdgNwzcllkQi7Z83GZnA4NrdfA5Q"
    "bx2ZiAbwyOEiEpbwIajQMt+RxAJ/IvE9Lz2rL+NKJAvrtr/UIxXj97Nb1B/7PfPAJ8uze4"
    "TQJuAgKNomZg3sE1tr4GDNxjlAnoZx7pe/+f6uyE4twHv+BsAI1n72jJm5runTyetO6Gsf"
    "nptCYyqWnG5sYvfZfcF0En0s/dyReJ/JR+HfRlCi+y7IVJnxi2m/zaIGNSHRspED0p6ixy"
    "CvqlPmqxWSeHvcJ1bkcoXj+8j2Fy93B+E4lovso8vn1pKo7uJ2QCfQG/gufUoZIA1RUKO2"
    "BjoOeJ19eRIfziLyG/NFybpvoUyJHRlYUBmAED2BSCEV7ko24bA01wnqra6kk1Z0oMcFKD"
    "mihRErRNV62b62SJCtUFRYe8Bhm0J5A7M92WHwEdd0paDytz5XXSTAFBu9dE9gbWAgCcfY"
    "8w08HHsobMmYTm0tMSSdpShXiY+H/VPpHmJlrjf4EJ3ifP7W37yFAKhALwhgoA/4EsDuLj"
    "O4gxN0BcOl5AUGVlo0oK3qOu8uDrNa8juntX1vBaZGrOzNV7BLrylgBfnhcA+PKcCTCpek"
    "mI6SY+jXkADilqCHDz4qIAwrgVE2JalzQA2apuWGmQfxwP+tkgR0iSp62u2dL/JMMTBA9i"
    "efjX3IF0G0lTRzdsHVrvyWP//QYWCQJRvkUiaXxInKCkg9ssTepNRP6IupUW+eO6GFPkn9"
    "Fmiq//7dtKD+CjbiLoG7ygs54KU/0bS+reJBQHNiQQppQA3xDPFX6Pbc3xPm2JlmB3x3Ny"
    "30ZHHvYG/72RXOoHOBr0eret9tcbyUSGQdhZNQzyj8Bku0cYInRIIoSQYkKICeZ8jr65QL"
    "c4usRDpNuKteTSBONUNcR6//qKD5kz9T2KvGCHlDXw5cXhvvjYLIA3bsUEnNbFEV+jGdj2"
    "rPRpS0R6jjvgPSk/3fd6uDNM+QDbrX5rhE9NDUvw5nM1Tkh3LIoFTHLw8eiRacpqqJPkeU"
    "etTp7EtDe0UjYmUGboCRpIzRAt2bEFmcQ14ExlRxm4OOKZ2mEWktRiGracBrKcA52FfycE"
    "pGICdtkHW85AnFZMwXZTYCHH1ADXYZ2kq8ZRffSW3+jUQGRnCLPsHeG3F7uAexeYAL+0Zf"
    "PGF0eIaqgQ/yP9zw3N0MtRgPevemHF1nYyuHgx/TekrvJabgzlfqfb/6y4AdwtrAuT+C4M"
    "u+JfB3mA4/YXuXPfkzs3kqUtwcwxwOwB/udevidFeHgO+T267/dxTzeS6UCIO0jq07if+3"
    "Zblju0H0fTAJgRuk+tLu16ruq0X0zVlnu0SCPIGrTUDScnhW5AOSnr9ifyaHQ/pMV4VQDT"
    "dDa05q47HpPCtW5ZYLaNJn9WxJxyxramnKWMKQF0W0RDJ2n3EIbl+ciqwiuPJOrKxyQ37E"
    "pEvbM3WX2D7TDDN7eb9Til2NtV3ttzHerWcqtpTpCKea7yPPt+csVGXEpMnGwr0a9is1qC"
    "C3WDEVMXgHhDmxeXPHinKWugrh/akRqApv+VYRG51RfM2KIkZXkRRqeHwtoNL/qh2Tw7u2"
    "qenl1eX5xfXV1cnwZxRumqvICj2+5nEnMUm4t0EJKP4xyrPBka5qv4B3S1mYC9xXdZBmG/"
    "5DISBAYPK0kR1o9575+VuKDZDCtJHtD29raRfxjGBlAtoKAnyGdPTZDVD+mDGFRd1Bxo6x"
    "nMI1++T5AK+b7K8n0k1J3vqnqaUIRZv35jPXGzII4178V1Od7ZkSFd9OZ6eqFxX2CPXKbz"
    "jPkZB/WtR/rp6wgYKuMGXTqNVE1QT5rwsHBtOnA3mMakm5ED6wTTAS9GRbdz+mZUYrMzr0"
    "YlOMy+r0bhhe/HDtPxiUtRb3opSl0zApMZsRxe+yq7Yiujb3iXDDcq7p8D4wRZDaH+eNos"
    "AjZpxlY5aGXyYgMenmIixHmpIUpVotnzA9mWH+jjy7GAHgp3d8VyhtXHiKoRpleriHo/zS"
    "TXpMSIxKTsfVIC9UEhUXq6CXiEmmxiYblOWq6nqq0tGU4ZJrhxIgFqElQbrDdYXcMnJUlZ"
    "lqHWIWQAFWaDmyZOADzF1IdCOCgpl3/cDga9GP+47SYjfu/vbmV83FJmghvpNsPLBSB5/w"
    "xWkQt6hKpEtH3t6GjBFkFnbJ5S36AzzyzBZ8KOEwnz9evm64j1ZzfT9TDs6MgQLmq2ji+u"
    "HUzWJMnRbnbYWia45bPERhybSMvIGeyjOYBggvCfVzGNmGN7Xo9H6cTMxjVutI44BljX7+"
    "9U+DxB5G+x/T+mHW2zHN/Unpuz+UmeB0OJ2+zDtzTJesKyRYYf0EUTmXTVrsBziLPHO4Il"
    "7VWmHWL20kTOYpmstILHx9hPuzVutzr0FFZS6L8U9FDQRZ/rpfC3RRFPheLvyteTN4/RGi"
    "AIpCXCq1NSoRTpBo8XebmeJBpMbknEcwEkGowg6bakW/h/8jAwk5ApgW8brIdb6fTOB3uK"
    "SABdLQ8KmWC+eKKQoo6m/UPEEmG1w8pKbsa+cxxS1CCMuexbx1sFbYlwrbdWcwuFawnrBp"
    "uR1de68aTqNnn11JSzPUEREuEH2rsfqHJRk0cvo6WMTmzTSFrxLxhf6Sv3pURXVlVP5Ymt"
    "9DXFlxzLCl+M2xeEVhPPm9RIq4+x6pMc3ZHmCbKjLfca5yZUsjdUyWzdNrii2gKC/SgLbw"
    "vu4dUxGt2bjW+hdC6LyocQNoYjWekMfu73Bq3OjRRNLfkAh4PxJFoZzXiIawmllzU8TMTn"
    "U/kV8fxwVcipQl6eR8MOKao8kZXVsX1tapoRSpETqhijqgXwJfArofOy0a+XzruTErA3Gf"
    "UO2GqGbEqL82VSXKKs/WavezLWqmFIK/D84VE1HICbabYlqVPk2JK91C2JSEhT1QLSO/B+"
    "8V5SJW0JtJXktUYmcTtIFsCr3P4uw4Wx9+53EJSJ64qDUXrNayfP7euSAlt4prPHIwgEBL"
    "U4jsqQA6rBpfwImjSjisTWMHlVJJBHaM610Zwtw8kwEudloHCyLMSCz6Yvg5lggxTH5Mqk"
    "EqWpBXct6zoSHbYyNVWocV69S1KW6D5eY5gO5d8oIffYCoCNYgKavIMnFVOKrrw42otKs+"
    "mIAsufhKnW6ZcOYiUQlyzEJYtKLPV6mWSis77QbRKDyufxjhNtdThUjZkd9o6FB1gaYt47"
    "FuPxl69uP8eFb1HndXxl7XDDIhWMve1Fi3omZDpkzhtvjaaNGOHiZdowLGvpbxRhwzgq7n"
    "eSY8N425Q2tbZhOBZfpLvfvoa2iwMkkzb1R4wGPZEA1Mxn8gUWHkM8s4NawF+2g37jTA1d"
    "yxakcuYgRiWA3wL4OR4MMPFizorAZPOaBFktoBdWjxjSwuohrB5HYvXgcPHGFXfPr7qbGl"
    "k8OcKRaO7xWEXWHXKezLJbXx+vKkKH1LFdsDJ07ABFto4dNhEqdmnMVKjY5YhkB3Gk4pMF"
    "Hz5cXwKJkNRQ8D3Mp7KQmSGFsVM9ec3Lc043m5XmDtGzwGI4HNh6cpSmDv7pspVkDAPI+g"
    "YB+z5vSCGu8+ZPxxbXebm/KSS+JsRnprCBuubB128v4BVWIGEFOh65r15WoOis/+GsN3yB"
    "LxEKEfWS3kbcgUQ7BhFVbq8cNoqo3AiiqoFbNITo1fChJAvYA6ZFTZcV2/9FIY2wvR1Csk"
    "gvmQLNAWzERwJ0OodDqV9oOxaUdjSkF40K5E14W9NsQllZbxOvmkx9G/X/xLPeprMRJVPf"
    "xvLi7ifrbZjzmOU+8fdIhgMlsn3YLhR/q+7fi/IbTQ5OFRY/LYuHkPg235t7Wf4BaXawTj"
    "Wa3LhJkL3UOYykO2F54UQ8rfbX1mcZl2MegMF4gPdDt6GzyU/V45cdSeqeyIbNXCyMq7tx"
    "shqkyS3BaUQ/EsXB6oL24ntSSfUd73nbYTg5C7E3j7rEhbsBcOalROVhckO53+n2P2PW4d"
    "I/wNF9v09L8KEOacn4vt2W5Y6MuZPlaBoAM4AZ1KdWt0eK5qpukN/jr93hkLZZ6RtPveG2"
    "H18WMR8nDWUR6/FlRjo4czt7ZpxSJI6ucuLouQ51a7nVNCdIxTxXeZ7BNx2rQAzmzE5LHK"
    "cS9ur0gYcce+NwpVgMKWognZUdIQFME2W45NloBwQCbP7LMuS7wcix/DwePIpIFm0N3fYH"
    "ynUzfSZfVbUy05Xf6gu2ZhKjq4168kOzeXZ21Tw9u7y+OL+6urg+Ddh2uiqPf992PxMWHp"
    "uJDCUmak4seFTGaMRBmfGlYdVa8UEaoRCu3dddu77Ndzc/ZC0/CnmScEZGVlYBB2/oORAu"
    "3jxUYyyQ28l7wJsuLWDq2rKRdtR4FSc5bho1bCJuuhwTpzzJ8cEQR6Oe9ek5tjwbIamy76"
    "VKZnWypzgQ9prXEN2Pp6eFlITTHB3hNJX+HkE7Uz9gXxaIkJR/W+BtDHV7uxfAcfV3/yfZ"
    "y/8Bk263FA=="
)
