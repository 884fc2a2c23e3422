module github.com/hf-micro/hf-micro

go 1.26.0

require github.com/joho/godotenv v1.5.1

require github.com/BurntSushi/toml v1.6.0
