// Types shared by main.bicep and the modules (Azure Verified Modules style: exported user-defined
// types instead of loose objects, so a wrong shape fails at compile time, not half-way into a deployment).

@export()
@description('An app setting whose value is a Key Vault reference, resolved by App Service with the app\'s user-assigned identity.')
type secretAppSettingType = {
  @description('Required. The app setting name, e.g. NAME in a connection\'s { "env": "NAME" } secret reference.')
  name: string

  @description('Required. The Key Vault secret it refers to; the reference has no version, so the latest one is used.')
  secretName: string
}

@export()
@description('Flex Consumption scale-out limits.')
type scaleSettingsType = {
  @minValue(1)
  @maxValue(1000)
  @description('Required. The most instances the app scales out to; keeps Graph throttling and storage load bounded.')
  maximumInstanceCount: int

  @description('Required. Memory of each instance, in MB.')
  instanceMemoryMB: 512 | 2048 | 4096
}
